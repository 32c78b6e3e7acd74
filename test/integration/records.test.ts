import request from 'supertest';
import { fingerprint } from '../../src/domain/fingerprint.js';
import type { TokenRecord } from '../../src/domain/record.js';
import { KEYS } from '../../src/keys.js';
import { RecordStore } from '../../src/queue/records.js';
import { dumpRedis } from '../support/redis-scan.js';
import { API_TOKEN, eventually, item } from '../support/service.js';
import { useStack } from '../support/stack.js';

const stack = useStack({ env: { STRATEGY_ORDER: 'admin' } });
let records: RecordStore;
beforeAll(() => {
  records = new RecordStore(stack.client, 3600);
});
afterEach(() => stack.gitlab.faults.clear());

const post = (items: object[]) => request(stack.service.url).post('/v1/revoke_tokens').set('Authorization', API_TOKEN).send(items).expect(204);
const recordOf = async (token: string, state: string): Promise<TokenRecord> => {
  let found: TokenRecord | undefined;
  await eventually(async () => (found = await records.get(fingerprint(token)))?.state === state, `record in state ${state}`);
  return found as TokenRecord;
};

describe('token records', () => {
  it('say `attempted` (state, event, attempts) when an attempt begins, unless the token is settled: then nothing is written and its outcome is answered', async () => {
    const fp = fingerprint(`glpat-attempted-${Date.now()}`);
    await records.received([{ fp, type: 'gitleaks_rule_id_gitlab_personal_access_token' }], Date.now());
    expect(await records.attemptedUnlessSettled(fp, 3, KEYS.outcome(fp))).toBeUndefined();
    const attempted = await records.get(fp);
    expect(attempted).toMatchObject({ state: 'attempted', attempts: 3 });
    expect(attempted?.events.map((e) => [e.event, e.detail])).toEqual([['attempted', 'attempt 3'], ['accepted', undefined]]);
    expect(await stack.client.ttl(KEYS.record(fp))).toBeGreaterThan(3500);
    const outcome = JSON.stringify({ status: 'revoked', via: 'admin', type: 't', at: new Date().toISOString(), attempts: 3 });
    await stack.client.set(KEYS.outcome(fp), outcome);
    const before = await stack.client.hgetall(KEYS.record(fp));
    expect(await records.attemptedUnlessSettled(fp, 4, KEYS.outcome(fp))).toBe(outcome);
    expect(await stack.client.hgetall(KEYS.record(fp))).toEqual(before);
  });

  it('keep when and how often a token was received, where, what GitLab identified, and each state change', async () => {
    const token = stack.gitlab.createToken('personal_access_token', { userId: 99, name: 'deploy-bot' });
    stack.gitlab.faults.failNext(1, 503, { path: '/api/v4/admin/token' });
    await post([item(token, undefined, { location: 'https://gitlab.example.com/a/-/raw/1/x.yml#L1' })]);
    const first = await recordOf(token, 'revoked');
    await post([item(token, undefined, { location: 'https://gitlab.example.com/a/-/raw/2/y.yml#L9' })]);
    let again: TokenRecord | undefined;
    await eventually(async () => (again = await records.get(fingerprint(token)))?.received === 2, 'second receipt counted');
    expect(again).toMatchObject({
      fingerprint: fingerprint(token),
      type: 'gitleaks_rule_id_gitlab_personal_access_token',
      state: 'revoked',
      received: 2,
      instance: expect.any(String),
      strategy: 'admin',
      attempts: 2,
      identified: { kind: 'access_token', ownerId: 99, name: 'deploy-bot' },
      lastError: 'http_503',
      firstReceivedAt: first.firstReceivedAt,
    });
    expect(again?.locations).toEqual(['https://gitlab.example.com/a/-/raw/2/y.yml#L9', 'https://gitlab.example.com/a/-/raw/1/x.yml#L1']);
    expect(again?.events.map((e) => e.event).reverse()).toEqual(['accepted', 'attempted', 'retrying', 'attempted', 'revoked']);
    expect(again?.events.every((e) => e.actor === 'service' && !Number.isNaN(Date.parse(e.at)))).toBe(true);
  });

  it('keep the reason and sanitized answer of a terminal failure', async () => {
    const token = stack.gitlab.createToken('deploy_token');
    stack.gitlab.faults.failUntilCleared(400, { method: 'DELETE', body: { message: { error: 'Cannot revoke' } } });
    await post([item(token, 'gitleaks_rule_id_gitlab_deploy_token')]);
    const failed = await recordOf(token, 'failed');
    expect(failed.lastError).toBe('http_400');
    // The class is lastError; the summary says it once, not `http_400: http_400: ...`.
    expect(failed.lastSummary).toMatch(/^400 \{"error":"Cannot revoke"\}/);
    expect(failed.events[0]).toMatchObject({ event: 'failed', actor: 'service' });
  });

  it('are bounded per token however often GitLab resends it', async () => {
    const token = stack.gitlab.createToken('personal_access_token');
    for (let i = 0; i < 30; i++) await post([item(token, undefined, { location: `https://gitlab.example.com/a/-/raw/${i}/f#L1` })]);
    await eventually(async () => (await records.get(fingerprint(token)))?.received === 30, 'every receipt counted');
    const record = await records.get(fingerprint(token));
    expect(record?.locations).toHaveLength(20);
    expect(record?.locations[0]).toBe('https://gitlab.example.com/a/-/raw/29/f#L1');
    expect(await stack.client.ttl(`trapi:record:${fingerprint(token)}`)).toBeGreaterThan(89 * 86400);
  });

  it('keep each distinct vulnerability that named the token, ids only, bounded', async () => {
    const token = stack.gitlab.createToken('personal_access_token');
    await post(Array.from({ length: 25 }, (_, i) => item(token, undefined, { vulnerability: { id: 500 + (i % 23), project_id: 4, title: 'a leaked token', raw: token } })));
    await post([item(token, undefined, { vulnerability: { id: 'abc' } })]);
    await eventually(async () => (await records.get(fingerprint(token)))?.received === 2, 'both receipts counted');
    const record = await records.get(fingerprint(token));
    expect(record?.vulnerabilities).toHaveLength(20);
    expect(record?.vulnerabilities?.[0]).toEqual({ id: 500, projectId: 4 });
    expect(await stack.client.ttl(`trapi:record:${fingerprint(token)}:vulnerabilities`)).toBeGreaterThan(89 * 86400);
  });

  it('never hold the token', async () => {
    const token = stack.gitlab.createToken('personal_access_token');
    await post([item(token)]);
    await recordOf(token, 'revoked');
    expect((await dumpRedis(stack.client)).includes(Buffer.from(token))).toBe(false);
  });
});

describe('the audit trail', () => {
  it('has one entry per outcome, by the service', async () => {
    const token = stack.gitlab.createToken('personal_access_token');
    await post([item(token)]);
    await recordOf(token, 'revoked');
    const entries = await stack.client.xrange('trapi:audit', '-', '+');
    const mine = entries.filter(([, f]) => f.includes(fingerprint(token)));
    expect(mine).toHaveLength(1);
    expect(mine[0]?.[1]).toEqual(expect.arrayContaining(['actor', 'service', 'action', 'token_revoked']));
  });
});
