import type { Redis } from 'ioredis';
import request from 'supertest';
import { startGitLabSimulator, type GitLabSimulator } from '../../simulator/index.js';
import { killAll, spawnService } from '../support/process.js';
import { outcomeOf } from '../support/queue.js';
import { startTestRedis, type TestRedis } from '../support/redis.js';
import { API_TOKEN, eventually, item, startTestService, testEnv } from '../support/service.js';

let redis: TestRedis;
let client: Redis;
let sim: GitLabSimulator;

beforeAll(async () => {
  redis = await startTestRedis();
  client = redis.client();
  sim = await startGitLabSimulator();
});
afterAll(async () => {
  await killAll();
  await sim?.stop();
  await redis?.stop();
});

describe('when Redis goes down', () => {
  it('answers 503 with Retry-After within a few seconds, then accepts again once Redis is back', async () => {
    const svc = await startTestService(redis.url, sim.url, sim.adminToken);
    try {
      const token = sim.createToken('personal_access_token');
      await redis.kill();
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

      await redis.start();
      await eventually(async () => (await request(svc.url).post('/v1/revoke_tokens').set('Authorization', API_TOKEN).send([item(token)])).status === 204, '204 once Redis is back');
      await eventually(() => sim.stateOf(token) === 'revoked', 'revoked after Redis came back');
    } finally {
      await svc.stop();
    }
  });
});

describe('when the service is killed with jobs in flight', () => {
  it('revokes every accepted token after a restart', async () => {
    const env = { ...process.env, ...testEnv(redis.url, sim.url, sim.adminToken, { WORKER_CONCURRENCY: '4' }) };
    sim.setLatency(300);
    const tokens = Array.from({ length: 24 }, () => sim.createToken('personal_access_token'));
    const first = spawnService(env);
    const url = await first.started();
    await request(url).post('/v1/revoke_tokens').set('Authorization', API_TOKEN).send(tokens.map((t) => item(t))).expect(204);
    await eventually(() => sim.calls().some((c) => tokens.includes(c.token ?? '')), 'first calls in flight');
    first.child.kill('SIGKILL');
    await first.exited();
    const revokedAtKill = tokens.filter((t) => sim.stateOf(t) === 'revoked').length;
    expect(revokedAtKill).toBeLessThan(tokens.length);

    sim.setLatency(0);
    const second = spawnService(env);
    try {
      await second.started();
      await eventually(async () => (await Promise.all(tokens.map((t) => outcomeOf(client, t)))).every((o) => o !== undefined), 'an outcome for every token after restart', 30_000);
      for (const t of tokens) expect((await outcomeOf(client, t))?.status).toMatch(/^(revoked|already_gone)$/);
      expect(tokens.every((t) => sim.stateOf(t) === 'revoked')).toBe(true);
    } finally {
      second.child.kill('SIGTERM');
      expect(await second.exited()).toBe(0);
    }
  });

  it('on SIGTERM finishes in-flight jobs, leaves the rest queued, and exits 0', async () => {
    const env = { ...process.env, ...testEnv(redis.url, sim.url, sim.adminToken, { WORKER_CONCURRENCY: '2' }) };
    sim.setLatency(400);
    const tokens = Array.from({ length: 10 }, () => sim.createToken('personal_access_token'));
    const proc = spawnService(env);
    const url = await proc.started();
    await request(url).post('/v1/revoke_tokens').set('Authorization', API_TOKEN).send(tokens.map((t) => item(t))).expect(204);
    await eventually(() => sim.calls().some((c) => tokens.includes(c.token ?? '')), 'first calls in flight');
    const inFlight = new Set(sim.calls().map((c) => c.token));
    proc.child.kill('SIGTERM');
    expect(await proc.exited()).toBe(0);
    const started = tokens.filter((t) => inFlight.has(t));
    expect(started.length).toBeGreaterThan(0);
    for (const t of started) expect(sim.stateOf(t)).toBe('revoked');
    expect(tokens.filter((t) => sim.stateOf(t) === 'active').length).toBeGreaterThan(0);

    sim.setLatency(0);
    const again = spawnService(env);
    await again.started();
    await eventually(() => tokens.every((t) => sim.stateOf(t) === 'revoked'), 'the rest revoked after restart');
    again.child.kill('SIGTERM');
    await again.exited();
  });
});
