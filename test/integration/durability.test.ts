import request from 'supertest';
import { outcomeOf } from '../support/queue.js';
import { API_TOKEN, eventually, item } from '../support/service.js';
import { useStack } from '../support/stack.js';

// Each test starts (and kills) its own service; child processes left by a failed test are killed in afterAll.
const stack = useStack({ service: false });

describe('when Redis goes down', () => {
  it('answers 503 with Retry-After within a few seconds, then accepts again once Redis is back', async () => {
    const svc = await stack.startService();
    try {
      const token = stack.gitlab.createToken('personal_access_token');
      await stack.redis.kill();
      const started = Date.now();
      const res = await request(svc.url).post('/v1/revoke_tokens').set('Authorization', API_TOKEN).send([item(token)]);
      const elapsed = Date.now() - started;
      expect(res.status).toBe(503);
      expect(res.headers['retry-after']).toBeDefined();
      expect(res.body.error).toBe('store_unavailable');
      expect(elapsed).toBeLessThan(3000);
      const ready = await request(svc.url).get('/-/readiness');
      expect(ready.status).toBe(503);
      expect(ready.body.checks.redis).toBe('unreachable');

      await stack.redis.start();
      await eventually(async () => (await request(svc.url).post('/v1/revoke_tokens').set('Authorization', API_TOKEN).send([item(token)])).status === 204, '204 once Redis is back');
      await eventually(() => stack.gitlab.stateOf(token) === 'revoked', 'revoked after Redis came back');
    } finally {
      await svc.stop();
    }
  });
});

describe('when the service is killed with jobs in flight', () => {
  it('revokes every accepted token after a restart', async () => {
    const env = { WORKER_CONCURRENCY: '4' };
    stack.gitlab.setLatency(300);
    const tokens = Array.from({ length: 24 }, () => stack.gitlab.createToken('personal_access_token'));
    const first = stack.spawn(env);
    const url = await first.started();
    await request(url).post('/v1/revoke_tokens').set('Authorization', API_TOKEN).send(tokens.map((t) => item(t))).expect(204);
    await eventually(() => stack.gitlab.calls().some((c) => tokens.includes(c.token ?? '')), 'first calls in flight');
    first.child.kill('SIGKILL');
    await first.exited();
    const revokedAtKill = tokens.filter((t) => stack.gitlab.stateOf(t) === 'revoked').length;
    expect(revokedAtKill).toBeLessThan(tokens.length);

    stack.gitlab.setLatency(0);
    const second = stack.spawn(env);
    try {
      await second.started();
      await eventually(async () => (await Promise.all(tokens.map((t) => outcomeOf(stack.client, t)))).every((o) => o !== undefined), 'an outcome for every token after restart', 30_000);
      for (const t of tokens) expect((await outcomeOf(stack.client, t))?.status).toMatch(/^(revoked|already_gone)$/);
      expect(tokens.every((t) => stack.gitlab.stateOf(t) === 'revoked')).toBe(true);
    } finally {
      second.child.kill('SIGTERM');
      expect(await second.exited()).toBe(0);
    }
  });

  it('on SIGTERM finishes in-flight jobs, leaves the rest queued, and exits 0', async () => {
    const env = { WORKER_CONCURRENCY: '2' };
    stack.gitlab.setLatency(400);
    const tokens = Array.from({ length: 10 }, () => stack.gitlab.createToken('personal_access_token'));
    const proc = stack.spawn(env);
    const url = await proc.started();
    await request(url).post('/v1/revoke_tokens').set('Authorization', API_TOKEN).send(tokens.map((t) => item(t))).expect(204);
    await eventually(() => stack.gitlab.calls().some((c) => tokens.includes(c.token ?? '')), 'first calls in flight');
    const inFlight = new Set(stack.gitlab.calls().map((c) => c.token));
    proc.child.kill('SIGTERM');
    expect(await proc.exited()).toBe(0);
    const started = tokens.filter((t) => inFlight.has(t));
    expect(started.length).toBeGreaterThan(0);
    for (const t of started) expect(stack.gitlab.stateOf(t)).toBe('revoked');
    expect(tokens.filter((t) => stack.gitlab.stateOf(t) === 'active').length).toBeGreaterThan(0);

    stack.gitlab.setLatency(0);
    const again = stack.spawn(env);
    await again.started();
    await eventually(() => tokens.every((t) => stack.gitlab.stateOf(t) === 'revoked'), 'the rest revoked after restart');
    again.child.kill('SIGTERM');
    await again.exited();
  });
});
