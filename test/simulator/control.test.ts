// Control API round trips, sandbox autoCreate, instance prefixes, the bounded call log and shutdown.
import { type GitLabSimulator, startGitLabSimulator } from '../../simulator/index.js';
import { adminToken, call } from './client.js';

async function control(sim: GitLabSimulator, method: string, path: string, json?: unknown): Promise<{ status: number; body: unknown }> {
  const res = await fetch(`${sim.url}/-/sim/${path}`, { method, ...(json === undefined ? {} : { body: JSON.stringify(json), headers: { 'Content-Type': 'application/json' } }) });
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as unknown) : '' };
}

describe('GitLab simulator', () => {
  describe('control API', () => {
    let sim: GitLabSimulator;
    beforeAll(async () => {
      sim = await startGitLabSimulator({ adminToken: 'glpat-admin0000000000000000' });
    });
    afterAll(() => sim.stop());
    beforeEach(() => sim.reset());

    it('reports the admin token and settings in /-/sim/info', async () => {
      const res = await control(sim, 'GET', 'info');
      expect(res).toMatchObject({ status: 200, body: { url: sim.url, adminToken: 'glpat-admin0000000000000000', adminApiMode: 'enabled', autoCreate: false, latencyMs: 0 } });
    });

    it('seeds, makes, revokes and reports tokens over HTTP', async () => {
      const seeded = await control(sim, 'POST', 'tokens', [{ token: 'gldt-abcdefghij0123456789' }]);
      expect(seeded).toMatchObject({ status: 201, body: { tokens: [{ kind: 'deploy_token' }] } });
      const made = await control(sim, 'POST', 'tokens/make', { kind: 'feed_token', count: 3 });
      const feeds = (made.body as { tokens: string[] }).tokens;
      expect(feeds).toHaveLength(3);
      expect((await adminToken(sim, 'DELETE', 'gldt-abcdefghij0123456789')).status).toBe(204);
      expect((await adminToken(sim, 'DELETE', feeds[0] ?? '')).status).toBe(204);
      const states = await control(sim, 'POST', 'tokens/state', { tokens: ['gldt-abcdefghij0123456789', ...feeds, 'glpat-nope'] });
      expect(states.body).toEqual({ states: { 'gldt-abcdefghij0123456789': 'revoked', [feeds[0] ?? '']: 'reset', [feeds[1] ?? '']: 'active', [feeds[2] ?? '']: 'active', 'glpat-nope': 'unknown' } });
      const revoked = await control(sim, 'GET', 'revoked');
      expect((revoked.body as { revoked: { token: string; attempts: number }[] }).revoked.map((r) => [r.token, r.attempts])).toEqual([
        ['gldt-abcdefghij0123456789', 1],
        [feeds[0], 1],
      ]);
    });

    it('sets faults, latency, admin API mode and admin credential state over HTTP', async () => {
      expect((await control(sim, 'POST', 'faults', { action: { type: 'status', status: 503 }, times: 2 })).status).toBe(201);
      expect((await adminToken(sim, 'POST', 'glpat-abcdefghij0123456789')).status).toBe(503);
      expect((await control(sim, 'DELETE', 'faults')).status).toBe(204);
      expect((await adminToken(sim, 'POST', 'glpat-abcdefghij0123456789')).status).toBe(404);
      expect((await control(sim, 'PUT', 'latency', { ms: 5 })).status).toBe(204);
      expect(sim.faults.latencyMs).toBe(5);
      expect((await control(sim, 'PUT', 'admin-api', { mode: 'absent' })).status).toBe(204);
      expect(await adminToken(sim, 'POST', 'glpat-abcdefghij0123456789')).toMatchObject({ status: 404, body: { error: '404 Not Found' } });
      await control(sim, 'PUT', 'admin-api', { mode: 'enabled' });
      expect((await control(sim, 'PUT', 'admin-token', { state: 'revoked' })).status).toBe(200);
      expect((await adminToken(sim, 'POST', 'glpat-abcdefghij0123456789')).status).toBe(401);
      await control(sim, 'PUT', 'admin-token', { state: 'valid' });
      expect((await adminToken(sim, 'POST', 'glpat-abcdefghij0123456789')).status).toBe(404);
    });

    it('reads calls with filters and counters per route and status', async () => {
      const token = sim.createToken('personal_access_token');
      await adminToken(sim, 'POST', token);
      await adminToken(sim, 'DELETE', token);
      await adminToken(sim, 'DELETE', token);
      const calls = await control(sim, 'GET', 'calls?method=DELETE');
      expect(calls.body).toMatchObject({ total: 3, held: 3, calls: [{ status: 204, token, route: '/api/v4/admin/token' }, { status: 400, token }] });
      const counters = await control(sim, 'GET', 'counters');
      expect(counters.body).toEqual({ total: 3, counters: { 'POST /api/v4/admin/token 200': 1, 'DELETE /api/v4/admin/token 204': 1, 'DELETE /api/v4/admin/token 400': 1 } });
    });

    it.each([
      ['POST', 'tokens', [{ token: 'nope-abc' }]],
      ['POST', 'tokens/make', { kind: 'not_a_kind' }],
      ['POST', 'faults', { action: { type: 'explode' } }],
      ['PUT', 'admin-api', { mode: 'sideways' }],
      ['PUT', 'latency', { ms: -1 }],
    ])('answers 400 to %s /-/sim/%s with bad input', async (method, path, body) => {
      const res = await control(sim, method, path, body);
      expect(res).toMatchObject({ status: 400, body: { error: expect.any(String) } });
    });

    it('answers 404 to an unknown control endpoint and resets everything on POST reset', async () => {
      expect((await control(sim, 'GET', 'nope')).status).toBe(404);
      const token = sim.createToken('personal_access_token');
      await adminToken(sim, 'DELETE', token);
      expect((await control(sim, 'POST', 'reset')).status).toBe(204);
      expect(sim.stateOf(token)).toBe('unknown');
      expect(sim.calls()).toEqual([]);
      expect(sim.revokedTokens()).toEqual([]);
      expect((await adminToken(sim, 'POST', sim.adminToken)).status).toBe(200);
    });
  });

  describe('sandbox and instance options', () => {
    it('treats an unseen well-formed token as active and revokes it when autoCreate is on', async () => {
      const sim = await startGitLabSimulator({ autoCreate: true });
      try {
        const leaked = 'glpat-abcdefghij0123456789';
        expect(sim.stateOf(leaked)).toBe('unknown');
        expect((await adminToken(sim, 'DELETE', leaked)).status).toBe(204);
        expect(sim.stateOf(leaked)).toBe('revoked');
        expect((await adminToken(sim, 'DELETE', 'glpat-short')).status).toBe(404);
        expect((await adminToken(sim, 'DELETE', 'ghp_abcdefghij0123456789')).status).toBe(422);
        expect((await call(sim, 'GET', '/api/v4/personal_access_tokens/self', { token: 'glpat-zyxwvutsrq9876543210' })).status).toBe(200);
        // Only a PAT can be conjured as a credential: a deploy token sent as PRIVATE-TOKEN stays unknown.
        expect((await call(sim, 'GET', '/api/v4/personal_access_tokens/self', { token: 'gldt-abcdefghij0123456789' })).status).toBe(401);
        expect(sim.stateOf('gldt-abcdefghij0123456789')).toBe('unknown');
        const runner = 'glrt-abcdefghij0123456789';
        expect((await adminToken(sim, 'DELETE', runner)).status).toBe(204);
        // A reset token is gone for good: autoCreate must not bring it back.
        expect((await adminToken(sim, 'POST', runner)).status).toBe(404);
      } finally {
        await sim.stop();
      }
    });

    it('without autoCreate, an unseen token is not found', async () => {
      const sim = await startGitLabSimulator();
      try {
        expect((await adminToken(sim, 'DELETE', 'glpat-abcdefghij0123456789')).status).toBe(404);
      } finally {
        await sim.stop();
      }
    });

    it('honours an instance-wide prefix for generated, seeded and identified tokens', async () => {
      const sim = await startGitLabSimulator({ instancePrefix: 'mycompany' });
      try {
        expect(sim.adminToken).toMatch(/^mycompany-glpat-/);
        const token = sim.createToken('deploy_token');
        expect(token).toMatch(/^mycompany-gldt-/);
        expect((await adminToken(sim, 'DELETE', token)).status).toBe(204);
        expect((await adminToken(sim, 'POST', 'othercorp-glpat-abcdefghij0123456789')).status).toBe(422);
        expect((await adminToken(sim, 'POST', 'mycompany-glpat-abcdefghij0123456789')).status).toBe(404);
      } finally {
        await sim.stop();
      }
    });

    it('keeps only the last callLogLimit calls but counts them all', async () => {
      const sim = await startGitLabSimulator({ callLogLimit: 5 });
      try {
        for (let i = 0; i < 12; i++) await adminToken(sim, 'POST', 'glpat-abcdefghij0123456789');
        const calls = sim.calls();
        expect(calls).toHaveLength(5);
        expect(calls.map((c) => c.seq)).toEqual([8, 9, 10, 11, 12]);
        expect(sim.callStats()).toEqual({ total: 12, held: 5, limit: 5 });
        expect(sim.counters()).toEqual({ 'POST /api/v4/admin/token 404': 12 });
      } finally {
        await sim.stop();
      }
    });

    it('stops promptly with an open keep-alive connection and a call still waiting on latency', async () => {
      const sim = await startGitLabSimulator({ latencyMs: 10_000 });
      await fetch(`${sim.url}/-/sim/info`).then((r) => r.text());
      const pending = adminToken(sim, 'POST', 'glpat-abcdefghij0123456789').catch((err: unknown) => err);
      await new Promise((r) => setTimeout(r, 50));
      const start = Date.now();
      await sim.stop();
      expect(Date.now() - start).toBeLessThan(1000);
      // fetch's TypeError comes from another realm than jest's, so compare by name.
      expect(await pending).toMatchObject({ name: 'TypeError', message: 'fetch failed' });
    });

    it('rejects invalid options with a readable message', async () => {
      await expect(startGitLabSimulator({ port: 70_000 })).rejects.toThrow(/port/);
    });
  });
});
