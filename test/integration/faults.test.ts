import request from 'supertest';
import { makeToken, type TokenKind } from '../../simulator/index.js';
import { failedReasonOf, outcomeOf } from '../support/queue.js';
import { API_TOKEN, eventually, item } from '../support/service.js';
import { startStack, useStack } from '../support/stack.js';

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

const stack = useStack();
afterEach(() => {
  stack.gitlab.faults.clear();
  stack.gitlab.setLatency(0);
  stack.gitlab.setAdminApiMode('enabled');
  stack.gitlab.setAdminTokenState('valid');
});

/** `perKind` tokens of every kind, seeded active at the simulator, and submitted in one batch. */
async function submitMixed(perKind: number, url = stack.service.url): Promise<Array<{ token: string; kind: TokenKind }>> {
  const tokens = KINDS.flatMap(([kind, type]) => Array.from({ length: perKind }, () => ({ token: stack.gitlab.createToken(kind), kind, type })));
  const res = await request(url).post('/v1/revoke_tokens').set('Authorization', API_TOKEN).send(tokens.map((t) => item(t.token, t.type)));
  expect(res.status).toBe(204);
  return tokens;
}

const gone = (token: string) => stack.gitlab.stateOf(token) !== 'active';
const revokingAttempts = (token: string) => stack.gitlab.revokedTokens().find((r) => r.token === token)?.attempts;

async function expectAllRevokedOnceAndNoneFailed(tokens: Array<{ token: string }>): Promise<void> {
  await eventually(async () => (await Promise.all(tokens.map((t) => outcomeOf(stack.client, t.token)))).every((o) => o !== undefined), 'an outcome for every token', 30_000);
  for (const { token } of tokens) {
    expect(gone(token)).toBe(true);
    expect(revokingAttempts(token)).toBe(1);
    expect(await failedReasonOf(stack.queue, token)).toBeUndefined();
  }
}

describe('fault: GitLab answers 503 to everything for a while, then recovers', () => {
  it('revokes every accepted token once it recovers, none failed or lost', async () => {
    stack.gitlab.faults.failUntilCleared(503);
    const tokens = await submitMixed(2);
    await new Promise((r) => setTimeout(r, 1500));
    expect(tokens.filter((t) => gone(t.token))).toHaveLength(0);
    expect((await stack.queue.getFailedCount())).toBe(0);
    stack.gitlab.faults.clear();
    await expectAllRevokedOnceAndNoneFailed(tokens);
  });
});

describe('fault: a 429 storm with Retry-After', () => {
  it('waits it out: every token revoked, and no job used up an attempt', async () => {
    stack.gitlab.faults.rateLimitNext(60, { retryAfter: 1 });
    const tokens = await submitMixed(2);
    await expectAllRevokedOnceAndNoneFailed(tokens);
    for (const { token } of tokens) expect((await outcomeOf(stack.client, token))?.attempts).toBe(1);
  });
});

describe('fault: the admin credential is revoked mid-run, then restored', () => {
  it('holds what needs it (readiness degraded), revokes what can go without it, and resumes by itself', async () => {
    stack.gitlab.setAdminTokenState('revoked');
    const tokens = await submitMixed(2);
    const pats = tokens.filter((t) => t.kind === 'personal_access_token');
    const runners = tokens.filter((t) => t.kind === 'runner_authentication_token');
    const adminOnly = tokens.filter((t) => t.kind !== 'personal_access_token' && t.kind !== 'runner_authentication_token');

    await eventually(async () => (await request(stack.service.url).get('/-/readiness')).body.status === 'degraded', 'readiness degraded');
    const ready = await request(stack.service.url).get('/-/readiness');
    expect(ready.status).toBe(200);
    expect(Object.keys(ready.body.checks)).toContain(`credential:${new URL(stack.gitlab.url).host.replace(':', '-')}:admin`);
    await eventually(() => [...pats, ...runners].every((t) => gone(t.token)), 'credential-free strategies revoked PATs and runner tokens');
    for (const t of pats) expect((await outcomeOf(stack.client, t.token))?.via).toBe('self');
    for (const t of runners) expect((await outcomeOf(stack.client, t.token))?.via).toBe('runner_reset');
    await new Promise((r) => setTimeout(r, 800));
    for (const t of adminOnly) {
      expect(gone(t.token)).toBe(false);
      expect(await failedReasonOf(stack.queue, t.token)).toBeUndefined();
    }
    expect(stack.service.logs.records().filter((r) => String(r['msg']).includes('breaker OPEN'))).toHaveLength(1);

    stack.gitlab.setAdminTokenState('valid');
    await expectAllRevokedOnceAndNoneFailed(tokens);
    await eventually(async () => (await request(stack.service.url).get('/-/readiness')).body.status === 'ready', 'readiness back to ready');
    expect(stack.service.logs.records().filter((r) => String(r['msg']).includes('breaker CLOSED'))).toHaveLength(1);
  });
});

describe('fault: the admin revoke API is flag-disabled', () => {
  it('revokes personal access tokens through self and resets runner tokens through runner_reset', async () => {
    stack.gitlab.setAdminApiMode('flag_disabled');
    const tokens = (await submitMixed(3)).filter((t) => t.kind === 'personal_access_token' || t.kind === 'runner_authentication_token');
    await eventually(() => tokens.every((t) => gone(t.token)), 'all revoked without the admin API');
    for (const t of tokens) {
      await eventually(async () => (await outcomeOf(stack.client, t.token)) !== undefined, 'outcome recorded');
      expect((await outcomeOf(stack.client, t.token))?.via).toBe(t.kind === 'personal_access_token' ? 'self' : 'runner_reset');
    }
  });

  it('remembers the disabled flag, so later tokens skip the admin API', async () => {
    // A Redis of its own: the remembered flag must not leak into the other tests.
    const ownStack = await startStack({ gitlab: () => stack.gitlab, env: { UNAVAILABLE_RECHECK_MINUTES: '10' } });
    const own = ownStack.service;
    try {
      stack.gitlab.setAdminApiMode('flag_disabled');
      const first = stack.gitlab.createToken('personal_access_token');
      const later = stack.gitlab.createToken('personal_access_token');
      await request(own.url).post('/v1/revoke_tokens').set('Authorization', API_TOKEN).send([item(first)]).expect(204);
      await eventually(() => gone(first), 'first revoked');
      await request(own.url).post('/v1/revoke_tokens').set('Authorization', API_TOKEN).send([item(later)]).expect(204);
      await eventually(() => gone(later), 'later revoked');
      const adminCalls = (t: string) => stack.gitlab.calls().filter((c) => c.path === '/api/v4/admin/token' && c.token === t).length;
      expect(adminCalls(first)).toBe(2); // identify, then the DELETE that revealed the flag
      expect(adminCalls(later)).toBe(0);
    } finally {
      await ownStack.stop();
    }
  });
});

describe('fault: the group credential is valid but not an Owner of the group', () => {
  it('keeps the breaker open (one log line, no flapping) and holds the token until ownership is granted', async () => {
    const groupToken = makeToken('personal_access_token');
    const owner = (ownedGroupIds: number[]) => stack.gitlab.seed({ token: groupToken, kind: 'personal_access_token', userId: 78, ownedGroupIds, scopes: ['api'] });
    owner([]); // a working token, but of a user who owns no group
    const ownStack = await startStack({ gitlab: () => stack.gitlab, env: { STRATEGY_ORDER: 'group', GITLAB_GROUP_ID: '4242', GITLAB_GROUP_TOKEN: groupToken } });
    const own = ownStack.service;
    const ownQueue = ownStack.queue;
    try {
      const token = stack.gitlab.createToken('deploy_token', { groupId: 4242 });
      await request(own.url).post('/v1/revoke_tokens').set('Authorization', API_TOKEN).send([item(token, 'gitleaks_rule_id_gitlab_deploy_token')]).expect(204);
      await new Promise((r) => setTimeout(r, 1500)); // five breaker re-checks
      const lines = (text: string) => own.logs.records().filter((r) => String(r['msg']).includes(text)).length;
      expect(lines('breaker OPEN')).toBe(1);
      expect(lines('breaker CLOSED')).toBe(0);
      expect(stack.gitlab.stateOf(token)).toBe('active');
      expect(await failedReasonOf(ownQueue, token)).toBeUndefined();
      owner([4242]);
      await eventually(() => stack.gitlab.stateOf(token) === 'revoked', 'revoked once the credential may revoke');
      expect(lines('breaker CLOSED')).toBe(1);
    } finally {
      await ownStack.stop();
    }
  });
});

describe('two worker processes on one Redis', () => {
  // Its own Redis, the file's simulator; the workers are child processes, killed in afterAll if a test failed.
  const two = useStack({ gitlab: () => stack.gitlab, env: { ROLE: 'api' } });

  it('revokes each token exactly once', async () => {
    stack.gitlab.setLatency(10);
    const env = { ROLE: 'worker', LOG_LEVEL: 'info' };
    const workers = [two.spawn(env), two.spawn(env)];
    await Promise.all(workers.map((w) => w.started()));
    const tokens = await submitMixed(12, two.service.url);
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
