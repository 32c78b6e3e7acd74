import request from 'supertest';
import { fingerprint } from '../../src/domain/fingerprint.js';
import { failedReasonOf, outcomeOf } from '../support/queue.js';
import { API_TOKEN, eventually, item } from '../support/service.js';
import { useStack } from '../support/stack.js';

const ADMIN = '/api/v4/admin/token';
const RUNNER = 'gitleaks_rule_id_gitlab_runner_auth_token';

const stack = useStack();
afterEach(() => {
  stack.gitlab.faults.clear();
  stack.gitlab.setAdminApiMode('enabled');
  stack.gitlab.setAdminTokenState('valid');
});

const submit = async (...items: object[]) => {
  const res = await request(stack.service.url).post('/v1/revoke_tokens').set('Authorization', API_TOKEN).send(items);
  expect(res.status).toBe(204);
};
const deletes = (token: string) => stack.gitlab.calls().filter((c) => c.method === 'DELETE' && c.token === token);

describe('a revoking call whose answer is lost', () => {
  it('records the token as revoked by that call when the next attempt finds it already revoked, with no second DELETE', async () => {
    const token = stack.gitlab.createToken('personal_access_token');
    stack.gitlab.faults.dropAfterNext(1, { method: 'DELETE', path: ADMIN }); // GitLab revokes, the answer never arrives
    await submit(item(token));
    await eventually(async () => (await outcomeOf(stack.client, token)) !== undefined, 'an outcome');
    expect(await outcomeOf(stack.client, token)).toMatchObject({ status: 'revoked', via: 'admin', instance: expect.any(String), attempts: 2 });
    expect(deletes(token).map((c) => c.status)).toEqual([0]);
    expect(stack.service.logs.records().some((l) => l['lostAnswer'] === true && l['found'] === 'already_gone' && l['status'] === 'revoked')).toBe(true);
  });

  it('records a runner token as reset the same way', async () => {
    const token = stack.gitlab.createToken('runner_authentication_token');
    stack.gitlab.faults.dropAfterNext(1, { method: 'DELETE', path: ADMIN });
    await submit(item(token, RUNNER));
    await eventually(async () => (await outcomeOf(stack.client, token)) !== undefined, 'an outcome');
    expect(await outcomeOf(stack.client, token)).toMatchObject({ status: 'reset', via: 'admin' });
    expect(deletes(token)).toHaveLength(1);
  });

  it('still revokes for real when the lost call never reached GitLab', async () => {
    const token = stack.gitlab.createToken('personal_access_token');
    stack.gitlab.faults.dropNext(1, { method: 'DELETE', path: ADMIN }); // dropped before GitLab did anything
    await submit(item(token));
    await eventually(async () => (await outcomeOf(stack.client, token)) !== undefined, 'an outcome');
    expect(await outcomeOf(stack.client, token)).toMatchObject({ status: 'revoked', via: 'admin', attempts: 2 });
    // The dropped call is logged without a token (GitLab never read it); the second one revoked.
    expect(stack.gitlab.calls().filter((c) => c.method === 'DELETE' && c.fault === 'drop')).toHaveLength(1);
    expect(deletes(token).map((c) => c.status)).toEqual([204]);
  });
});

describe('GitLab admin token provider, end to end', () => {
  it('revokes an active personal access token and records what GitLab identified', async () => {
    const token = stack.gitlab.createToken('personal_access_token', { userId: 42, name: 'ci-bot' });
    await submit(item(token));
    await eventually(async () => (await outcomeOf(stack.client, token))?.status === 'revoked', 'outcome revoked');
    expect(await outcomeOf(stack.client, token)).toMatchObject({ via: 'admin', instance: expect.any(String), attempts: 1, identified: { kind: 'access_token', ownerId: 42, name: 'ci-bot' } });
    expect(stack.gitlab.stateOf(token)).toBe('revoked');
  });

  it('resets a runner authentication token (the runner is kept)', async () => {
    const token = stack.gitlab.createToken('runner_authentication_token');
    await submit(item(token, RUNNER));
    await eventually(async () => (await outcomeOf(stack.client, token))?.status === 'reset', 'outcome reset');
    expect(await outcomeOf(stack.client, token)).toMatchObject({ identified: { kind: 'runner' } });
  });

  it('treats an already revoked token as gone, without a DELETE', async () => {
    const token = stack.gitlab.createToken('personal_access_token', { revoked: true });
    await submit(item(token));
    await eventually(async () => (await outcomeOf(stack.client, token))?.status === 'already_gone', 'already gone');
    expect(deletes(token)).toHaveLength(0);
  });

  it('treats a token GitLab does not know as not found, a terminal success', async () => {
    const token = 'glpat-NeverIssuedToken0001';
    await submit(item(token));
    await eventually(async () => (await outcomeOf(stack.client, token))?.status === 'not_found', 'not found');
    expect(deletes(token)).toHaveLength(0);
  });

  it('retries 5xx answers with backoff until GitLab recovers', async () => {
    const token = stack.gitlab.createToken('personal_access_token');
    stack.gitlab.faults.failNext(3, 503, { path: ADMIN });
    await submit(item(token));
    await eventually(async () => (await outcomeOf(stack.client, token))?.status === 'revoked', 'revoked after 503s');
    expect((await outcomeOf(stack.client, token))?.attempts).toBe(4);
  });

  it('retries dropped connections', async () => {
    const token = stack.gitlab.createToken('personal_access_token');
    stack.gitlab.faults.dropNext(2, { path: ADMIN });
    await submit(item(token));
    await eventually(() => stack.gitlab.stateOf(token) === 'revoked', 'revoked after dropped connections');
  });

  it('waits out a 429 with Retry-After without using up an attempt', async () => {
    const token = stack.gitlab.createToken('personal_access_token');
    stack.gitlab.faults.rateLimitNext(2, { retryAfter: 1, path: ADMIN });
    const started = Date.now();
    await submit(item(token));
    await eventually(async () => (await outcomeOf(stack.client, token))?.status === 'revoked', 'revoked after 429s');
    expect(Date.now() - started).toBeGreaterThanOrEqual(400); // capped by RETRY_MAX_DELAY_MS=400 in tests
    expect((await outcomeOf(stack.client, token))?.attempts).toBe(1);
  });

  it('waits out a header-less 429 the same way', async () => {
    const token = stack.gitlab.createToken('personal_access_token');
    stack.gitlab.faults.rateLimitNext(2, { withHeaders: false, path: ADMIN });
    await submit(item(token));
    await eventually(async () => (await outcomeOf(stack.client, token))?.status === 'revoked', 'revoked after bare 429s');
    expect((await outcomeOf(stack.client, token))?.attempts).toBe(1);
  });

  it('holds admin-only tokens while GitLab rejects the admin credential, and revokes them once it works again', async () => {
    const token = stack.gitlab.createToken('deploy_token');
    stack.gitlab.setAdminTokenState('revoked');
    await submit(item(token, 'gitleaks_rule_id_gitlab_deploy_token'));
    await eventually(() => stack.service.logs.records().some((r) => String(r['msg']).includes('breaker OPEN')), 'breaker opened');
    await new Promise((r) => setTimeout(r, 600));
    expect(stack.gitlab.stateOf(token)).toBe('active');
    expect(await failedReasonOf(stack.queue, token)).toBeUndefined();
    stack.gitlab.setAdminTokenState('valid');
    await eventually(() => stack.gitlab.stateOf(token) === 'revoked', 'revoked once the credential works');
  });

  it('holds a token no strategy can act on for now, naming every reason, and revokes it once the flag is back', async () => {
    stack.gitlab.setAdminApiMode('flag_disabled');
    const token = stack.gitlab.createToken('cluster_agent_token');
    try {
      await submit(item(token, 'gitleaks_rule_id_gitlab_kubernetes_agent_token'));
      await eventually(async () => /feature flag is disabled \[admin_api_flag_disabled\]$/.test((await stack.client.hget(`trapi:record:${fingerprint(token)}`, 'lastSummary')) ?? ''), 'the token held, naming the reason');
      expect(await failedReasonOf(stack.queue, token)).toBeUndefined();
    } finally {
      stack.gitlab.setAdminApiMode('enabled');
    }
    await eventually(() => stack.gitlab.stateOf(token) === 'revoked', 'revoked once the flag is back');
  });
});

describe('retry horizon', () => {
  // Its own Redis: the other service's worker, with a 24 h horizon, must not take this job.
  const short = useStack({ gitlab: () => stack.gitlab, env: { ROLE: 'all', RETRY_HORIZON_HOURS: String(1 / 3600) } });

  it('fails a token no strategy could act on once the horizon has passed, with every reason', async () => {
    stack.gitlab.setAdminApiMode('flag_disabled');
    const token = stack.gitlab.createToken('cluster_agent_token');
    try {
      await request(short.service.url).post('/v1/revoke_tokens').set('Authorization', API_TOKEN).send([item(token, 'gitleaks_rule_id_gitlab_kubernetes_agent_token')]).expect(204);
      await eventually(async () => (await failedReasonOf(short.queue, token)) !== undefined, 'job failed after the horizon', 20_000);
    } finally {
      stack.gitlab.setAdminApiMode('enabled');
      // The provider skips an endpoint it found unavailable for UNAVAILABLE_RECHECK_MINUTES (0.3 s here): the next test must find it again.
      await new Promise((r) => setTimeout(r, 400));
    }
    expect(await failedReasonOf(short.queue, token)).toMatch(/^retry_horizon_exceeded: no_strategy_available: no strategy can act for now: 404 .*feature flag is disabled.* \[admin_api_flag_disabled\]$/);
    expect(stack.gitlab.stateOf(token)).toBe('active');
  });

  it('moves a token that keeps failing transiently to the failed set once the horizon has passed', async () => {
    const token = stack.gitlab.createToken('personal_access_token');
    stack.gitlab.faults.failUntilCleared(502, { path: ADMIN });
    await request(short.service.url).post('/v1/revoke_tokens').set('Authorization', API_TOKEN).send([item(token)]).expect(204);
    await eventually(async () => (await failedReasonOf(short.queue, token)) !== undefined, 'job failed after the horizon', 20_000);
    expect(await failedReasonOf(short.queue, token)).toMatch(/^retry_horizon_exceeded: http_502: 502/);
    const job = await short.queue.getJob((await import('../../src/domain/fingerprint.js')).fingerprint(token));
    expect(job?.attemptsMade).toBeGreaterThan(2);
  });
});
