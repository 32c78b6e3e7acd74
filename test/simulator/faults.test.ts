// Fault injection over real HTTP: latency, canned errors, 429s and dropped connections (before or after the work).
import { request } from 'node:http';
import { type GitLabSimulator, startGitLabSimulator } from '../../simulator/index.js';
import { adminToken, call } from './client.js';

/** node:http rather than fetch: the service's client (got) sees a lost answer as node:http reports it. */
function nodePost(url: string, token: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', headers: { 'PRIVATE-TOKEN': token } }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
    req.end();
  });
}

describe('GitLab simulator', () => {
  let sim: GitLabSimulator;
  let token: string;
  beforeAll(async () => {
    sim = await startGitLabSimulator();
  });
  afterAll(() => sim.stop());
  beforeEach(() => {
    sim.reset();
    token = sim.createToken('personal_access_token');
  });

  describe('faults', () => {
    it('delays every answer by the injected latency', async () => {
      sim.setLatency(150);
      const start = Date.now();
      expect((await adminToken(sim, 'POST', token)).status).toBe(200);
      expect(Date.now() - start).toBeGreaterThanOrEqual(140);
    });

    it('answers 100 concurrent calls with 100 ms latency in well under 100 x 100 ms', async () => {
      sim.setLatency(100);
      const start = Date.now();
      const answers = await Promise.all(Array.from({ length: 100 }, () => adminToken(sim, 'POST', token)));
      expect(answers.every((a) => a.status === 200)).toBe(true);
      expect(Date.now() - start).toBeLessThan(3000);
    });

    it('answers 503 to the next 3 calls, then recovers', async () => {
      sim.faults.failNext(3, 503);
      const statuses = [];
      for (let i = 0; i < 4; i++) statuses.push((await adminToken(sim, 'POST', token)).status);
      expect(statuses).toEqual([503, 503, 503, 200]);
      expect(sim.calls({ status: 503 })).toHaveLength(3);
    });

    it('answers a custom status, body and headers only to calls matching method and path', async () => {
      sim.faults.failNext(1, 500, { method: 'DELETE', path: '/api/v4/admin/token', body: { message: 'boom' }, headers: { 'X-Test': 'yes' } });
      expect((await adminToken(sim, 'POST', token)).status).toBe(200);
      const res = await adminToken(sim, 'DELETE', token);
      expect(res).toMatchObject({ status: 500, body: { message: 'boom' } });
      expect(res.headers.get('x-test')).toBe('yes');
      expect(sim.stateOf(token)).toBe('active');
      expect((await adminToken(sim, 'DELETE', token)).status).toBe(204);
    });

    it('answers 429 with Retry-After and RateLimit-* headers', async () => {
      sim.faults.rateLimitNext(1, { retryAfter: 7 });
      const res = await adminToken(sim, 'DELETE', token);
      expect(res.status).toBe(429);
      expect(res.headers.get('retry-after')).toBe('7');
      expect(res.headers.get('ratelimit-limit')).toBe('600');
      expect(res.headers.get('ratelimit-remaining')).toBe('0');
      const reset = Number(res.headers.get('ratelimit-reset'));
      expect(reset).toBeGreaterThanOrEqual(Math.floor(Date.now() / 1000) + 5);
      expect(res.text.trim()).toBe('Retry later');
    });

    it('answers 429 with no rate-limit headers and a plain-text Retry later body', async () => {
      sim.faults.rateLimitNext(1, { withHeaders: false });
      const res = await adminToken(sim, 'DELETE', token);
      expect(res.status).toBe(429);
      expect(res.headers.get('retry-after')).toBeNull();
      expect(res.headers.get('ratelimit-reset')).toBeNull();
      expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
      expect(res.text).toBe('Retry later');
    });

    it('drops the connection without answering, so fetch rejects; the next call works', async () => {
      sim.faults.dropNext(1);
      await expect(adminToken(sim, 'POST', token)).rejects.toThrow();
      expect((await adminToken(sim, 'POST', token)).status).toBe(200);
      expect(sim.calls()).toEqual([expect.objectContaining({ status: 0, fault: 'drop' }), expect.objectContaining({ status: 200, fault: null })]);
    });

    it('runs the real rotation, then drops the answer: the admin credential moves on, the caller sees a reset', async () => {
      const ROTATE = '/api/v4/personal_access_tokens/self/rotate';
      const before = sim.adminToken;
      sim.faults.dropAfterNext(1, { method: 'POST', path: ROTATE });
      await expect(nodePost(sim.url + ROTATE, before)).rejects.toMatchObject({ code: 'ECONNRESET', message: 'socket hang up' });
      expect(sim.stateOf(before)).toBe('revoked');
      expect(sim.adminToken).not.toBe(before);
      expect(sim.stateOf(sim.adminToken)).toBe('active');
      expect(sim.calls()).toEqual([expect.objectContaining({ route: ROTATE, status: 0, fault: 'drop_after', token: before })]);
      expect(sim.faults.list()).toEqual([]);
      expect((await adminToken(sim, 'POST', token)).status).toBe(200);
    });

    it('accepts drop_after through the control API, and a bare drop leaves the token untouched', async () => {
      const added = await call(sim, 'POST', '/-/sim/faults', { json: { action: { type: 'drop_after' }, path: '/api/v4/admin/token' } });
      expect(added.status).toBe(201);
      await expect(adminToken(sim, 'DELETE', token)).rejects.toThrow();
      expect(sim.stateOf(token)).toBe('revoked');
      const other = sim.createToken('personal_access_token');
      sim.faults.dropNext(1);
      await expect(adminToken(sim, 'DELETE', other)).rejects.toThrow();
      expect(sim.stateOf(other)).toBe('active');
    });

    it('slow: the call waits, then GitLab does the work and answers, even to a caller that gave up', async () => {
      sim.faults.slowNext(1, 300, { method: 'DELETE', path: '/api/v4/admin/token' });
      const started = Date.now();
      const gaveUp = await fetch(`${sim.url}/api/v4/admin/token`, {
        method: 'DELETE',
        headers: { 'PRIVATE-TOKEN': sim.adminToken, 'Content-Type': 'application/json' },
        body: JSON.stringify({ token }),
        signal: AbortSignal.timeout(100),
      }).catch((err: Error) => err);
      expect(gaveUp).toMatchObject({ name: 'TimeoutError' });
      expect(sim.stateOf(token)).toBe('active'); // not yet: GitLab is still working on it
      await new Promise((r) => setTimeout(r, 400));
      expect(sim.stateOf(token)).toBe('revoked');
      expect(Date.now() - started).toBeGreaterThanOrEqual(300);
      expect(sim.calls()).toEqual([expect.objectContaining({ status: 204, fault: 'slow' })]);
      const bad = await call(sim, 'POST', '/-/sim/faults', { json: { action: { type: 'slow', ms: -1 } } });
      expect(bad.status).toBe(400);
      expect((await call(sim, 'POST', '/-/sim/faults', { json: { action: { type: 'slow', ms: 50 } } })).status).toBe(201);
    });

    it('answers 503 to everything until cleared', async () => {
      sim.faults.failUntilCleared(503);
      for (let i = 0; i < 5; i++) expect((await adminToken(sim, 'POST', token)).status).toBe(503);
      expect((await call(sim, 'GET', '/api/v4/personal_access_tokens/self', { token })).status).toBe(503);
      sim.faults.clear();
      expect((await adminToken(sim, 'POST', token)).status).toBe(200);
    });

    it('matches a path prefix ending in *', async () => {
      sim.faults.failNext(1, 502, { path: '/api/v4/runners*' });
      expect((await adminToken(sim, 'POST', token)).status).toBe(200);
      expect((await call(sim, 'POST', '/api/v4/runners/verify', { form: { token: 'glrt-x' } })).status).toBe(502);
    });
  });
});
