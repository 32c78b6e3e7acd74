import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import request from 'supertest';
import { makeToken, startGitLabSimulator, type GitLabSimulator, type TokenKind } from '../../simulator/index.js';
import { killAll, spawnService } from '../support/process.js';
import { failedReasonOf, inspectQueue, outcomeOf } from '../support/queue.js';
import { startTestRedis, type TestRedis } from '../support/redis.js';
import { API_TOKEN, eventually, item, startTestService, testEnv, type TestService } from '../support/service.js';

/** One of each kind, with the type string GitLab sends for it. */
const KINDS: ReadonlyArray<[TokenKind, string]> = [
  ['personal_access_token', 'gitleaks_rule_id_gitlab_personal_access_token_routable'],
  ['runner_authentication_token', 'gitleaks_rule_id_gitlab_runner_auth_token'],
  ['deploy_token', 'gitleaks_rule_id_gitlab_deploy_token'],
  ['feed_token', 'gitleaks_rule_id_gitlab_feed_token_v2'],
  ['oauth_application_secret', 'gitleaks_rule_id_gitlab_oauth_app_secret'],
  ['cluster_agent_token', 'gitleaks_rule_id_gitlab_kubernetes_agent_token'],
  ['incoming_email_token', 'gitleaks_rule_id_gitlab_incoming_email_token'],
  ['pipeline_trigger_token', 'gitleaks_rule_id_gitlab_pipeline_trigger_token'],
];

let redis: TestRedis;
let client: Redis;
let queue: Queue;
let sim: GitLabSimulator;
let svc: TestService;

beforeAll(async () => {
  redis = await startTestRedis();
  client = redis.client();
  queue = inspectQueue(redis.url);
  sim = await startGitLabSimulator();
  svc = await startTestService(redis.url, sim.url, sim.adminToken);
});
afterEach(() => {
  sim.faults.clear();
  sim.setLatency(0);
  sim.setAdminApiMode('enabled');
  sim.setAdminTokenState('valid');
});
afterAll(async () => {
  await killAll();
  await svc?.stop();
  await queue?.close();
  await sim?.stop();
  await redis?.stop();
});

/** `perKind` tokens of every kind, seeded active at the simulator, and submitted in one batch. */
async function submitMixed(perKind: number, url = svc.url): Promise<Array<{ token: string; kind: TokenKind }>> {
  const tokens = KINDS.flatMap(([kind, type]) => Array.from({ length: perKind }, () => ({ token: sim.createToken(kind), kind, type })));
  const res = await request(url).post('/v1/revoke_tokens').set('Authorization', API_TOKEN).send(tokens.map((t) => item(t.token, t.type)));
  expect(res.status).toBe(204);
  return tokens;
}

const gone = (token: string) => sim.stateOf(token) !== 'active';
const revokingAttempts = (token: string) => sim.revokedTokens().find((r) => r.token === token)?.attempts;

async function expectAllRevokedOnceAndNoneFailed(tokens: Array<{ token: string }>): Promise<void> {
  await eventually(async () => (await Promise.all(tokens.map((t) => outcomeOf(client, t.token)))).every((o) => o !== undefined), 'an outcome for every token', 30_000);
  for (const { token } of tokens) {
    expect(gone(token)).toBe(true);
    expect(revokingAttempts(token)).toBe(1);
    expect(await failedReasonOf(queue, token)).toBeUndefined();
  }
}

describe('fault: GitLab answers 503 to everything for a while, then recovers', () => {
  it('revokes every accepted token once it recovers, none failed or lost', async () => {
    sim.faults.failUntilCleared(503);
    const tokens = await submitMixed(2);
    await new Promise((r) => setTimeout(r, 1500));
    expect(tokens.filter((t) => gone(t.token))).toHaveLength(0);
    expect((await queue.getFailedCount())).toBe(0);
    sim.faults.clear();
    await expectAllRevokedOnceAndNoneFailed(tokens);
  });
});

describe('fault: a 429 storm with Retry-After', () => {
  it('waits it out: every token revoked, and no job used up an attempt', async () => {
    sim.faults.rateLimitNext(60, { retryAfter: 1 });
    const tokens = await submitMixed(2);
    await expectAllRevokedOnceAndNoneFailed(tokens);
    for (const { token } of tokens) expect((await outcomeOf(client, token))?.attempts).toBe(1);
  });
});

describe('fault: the admin credential is revoked mid-run, then restored', () => {
  it('holds what needs it (readiness degraded), revokes what can go without it, and resumes by itself', async () => {
    sim.setAdminTokenState('revoked');
    const tokens = await submitMixed(2);
    const pats = tokens.filter((t) => t.kind === 'personal_access_token');
    const runners = tokens.filter((t) => t.kind === 'runner_authentication_token');
    const adminOnly = tokens.filter((t) => t.kind !== 'personal_access_token' && t.kind !== 'runner_authentication_token');

    await eventually(async () => (await request(svc.url).get('/-/readiness')).body.status === 'degraded', 'readiness degraded');
    const ready = await request(svc.url).get('/-/readiness');
    expect(ready.status).toBe(200);
    expect(Object.keys(ready.body.checks)).toContain(`credential:${new URL(sim.url).host.replace(':', '-')}:admin`);
    await eventually(() => [...pats, ...runners].every((t) => gone(t.token)), 'credential-free strategies revoked PATs and runner tokens');
    for (const t of pats) expect((await outcomeOf(client, t.token))?.via).toBe('self');
    for (const t of runners) expect((await outcomeOf(client, t.token))?.via).toBe('runner_reset');
    await new Promise((r) => setTimeout(r, 800));
    for (const t of adminOnly) {
      expect(gone(t.token)).toBe(false);
      expect(await failedReasonOf(queue, t.token)).toBeUndefined();
    }
    expect(svc.logs.records().filter((r) => String(r['msg']).includes('breaker OPEN'))).toHaveLength(1);

    sim.setAdminTokenState('valid');
    await expectAllRevokedOnceAndNoneFailed(tokens);
    await eventually(async () => (await request(svc.url).get('/-/readiness')).body.status === 'ready', 'readiness back to ready');
    expect(svc.logs.records().filter((r) => String(r['msg']).includes('breaker CLOSED'))).toHaveLength(1);
  });
});

describe('fault: the admin revoke API is flag-disabled', () => {
  it('revokes personal access tokens through self and resets runner tokens through runner_reset', async () => {
    sim.setAdminApiMode('flag_disabled');
    const tokens = (await submitMixed(3)).filter((t) => t.kind === 'personal_access_token' || t.kind === 'runner_authentication_token');
    await eventually(() => tokens.every((t) => gone(t.token)), 'all revoked without the admin API');
    for (const t of tokens) {
      await eventually(async () => (await outcomeOf(client, t.token)) !== undefined, 'outcome recorded');
      expect((await outcomeOf(client, t.token))?.via).toBe(t.kind === 'personal_access_token' ? 'self' : 'runner_reset');
    }
  });

  it('remembers the disabled flag, so later tokens skip the admin API', async () => {
    const ownRedis = await startTestRedis();
    const own = await startTestService(ownRedis.url, sim.url, sim.adminToken, { UNAVAILABLE_RECHECK_MINUTES: '10' });
    try {
      sim.setAdminApiMode('flag_disabled');
      const first = sim.createToken('personal_access_token');
      const later = sim.createToken('personal_access_token');
      await request(own.url).post('/v1/revoke_tokens').set('Authorization', API_TOKEN).send([item(first)]).expect(204);
      await eventually(() => gone(first), 'first revoked');
      await request(own.url).post('/v1/revoke_tokens').set('Authorization', API_TOKEN).send([item(later)]).expect(204);
      await eventually(() => gone(later), 'later revoked');
      const adminCalls = (t: string) => sim.calls().filter((c) => c.path === '/api/v4/admin/token' && c.token === t).length;
      expect(adminCalls(first)).toBe(2); // identify, then the DELETE that revealed the flag
      expect(adminCalls(later)).toBe(0);
    } finally {
      await own.stop();
      await ownRedis.stop();
    }
  });
});

describe('fault: the group credential is valid but not an Owner of the group', () => {
  it('keeps the breaker open (one log line, no flapping) and holds the token until ownership is granted', async () => {
    const ownRedis = await startTestRedis();
    const ownQueue = inspectQueue(ownRedis.url);
    const groupToken = makeToken('personal_access_token');
    const owner = (ownedGroupIds: number[]) => sim.seed({ token: groupToken, kind: 'personal_access_token', userId: 78, ownedGroupIds, scopes: ['api'] });
    owner([]); // a working token, but of a user who owns no group
    const own = await startTestService(ownRedis.url, sim.url, sim.adminToken, { STRATEGY_ORDER: 'group', GITLAB_GROUP_ID: '4242', GITLAB_GROUP_TOKEN: groupToken });
    try {
      const token = sim.createToken('deploy_token', { groupId: 4242 });
      await request(own.url).post('/v1/revoke_tokens').set('Authorization', API_TOKEN).send([item(token, 'gitleaks_rule_id_gitlab_deploy_token')]).expect(204);
      await new Promise((r) => setTimeout(r, 1500)); // five breaker re-checks
      const lines = (text: string) => own.logs.records().filter((r) => String(r['msg']).includes(text)).length;
      expect(lines('breaker OPEN')).toBe(1);
      expect(lines('breaker CLOSED')).toBe(0);
      expect(sim.stateOf(token)).toBe('active');
      expect(await failedReasonOf(ownQueue, token)).toBeUndefined();
      owner([4242]);
      await eventually(() => sim.stateOf(token) === 'revoked', 'revoked once the credential may revoke');
      expect(lines('breaker CLOSED')).toBe(1);
    } finally {
      await own.stop();
      await ownQueue.close();
      await ownRedis.stop();
    }
  });
});

describe('two worker processes on one Redis', () => {
  let twoRedis: TestRedis;
  let api: TestService;
  beforeAll(async () => {
    twoRedis = await startTestRedis();
    api = await startTestService(twoRedis.url, sim.url, sim.adminToken, { ROLE: 'api' });
  });
  afterAll(async () => {
    await killAll();
    await api?.stop();
    await twoRedis?.stop();
  });

  it('revokes each token exactly once', async () => {
    sim.setLatency(10);
    const env = { ...process.env, ...testEnv(twoRedis.url, sim.url, sim.adminToken, { ROLE: 'worker', LOG_LEVEL: 'info' }) };
    const workers = [spawnService(env), spawnService(env)];
    await Promise.all(workers.map((w) => w.started()));
    const tokens = await submitMixed(12, api.url);
    await eventually(() => tokens.every((t) => gone(t.token)), 'all revoked by two workers', 30_000);
    for (const { token } of tokens) expect(revokingAttempts(token)).toBe(1);
    const revokedBy = () => workers.map((w) => w.logs().filter((r) => /^token (revoked|reset)$/.test(String(r['msg']))).length);
    await eventually(() => revokedBy().reduce((a, b) => a + b, 0) >= tokens.length, 'an outcome line per token');
    expect(revokedBy().reduce((a, b) => a + b, 0)).toBe(tokens.length);
    expect(revokedBy().every((n) => n > 0)).toBe(true); // both processes took part
    for (const w of workers) w.child.kill('SIGTERM');
    expect(await Promise.all(workers.map((w) => w.exited()))).toEqual([0, 0]);
  });
});
