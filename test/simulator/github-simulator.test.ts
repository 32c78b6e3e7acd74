import { startGitHubSimulator, type GitHubSimulator, makeToken } from '../../simulator/github/index.js';

let sim: GitHubSimulator;
afterEach(async () => sim?.close());

interface Got {
  status: number;
  headers: Headers;
  json: Record<string, unknown> | undefined;
}

async function request(method: string, path: string, opts: { bearer?: string; body?: unknown } = {}): Promise<Got> {
  const res = await fetch(sim.apiUrl + path, {
    method,
    headers: { ...(opts.bearer ? { authorization: `Bearer ${opts.bearer}` } : {}), ...(opts.body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(opts.body === undefined ? {} : { body: JSON.stringify(opts.body) }),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, json: text ? (JSON.parse(text) as Record<string, unknown>) : undefined };
}
const revoke = (credentials: unknown, bearer?: string) => request('POST', '/credentials/revoke', { body: { credentials }, ...(bearer ? { bearer } : {}) });

describe('GitHub simulator: POST /credentials/revoke', () => {
  it('When an unauthenticated list of well-formed tokens is sent on dotcom, then it answers 202 {} with rate-limit headers and the tokens die', async () => {
    sim = await startGitHubSimulator();
    const tokens = [sim.createToken('ghp_'), sim.createToken('github_pat_'), sim.createToken('gho_'), sim.createToken('ghu_'), sim.createToken('ghr_')];
    const res = await revoke(tokens);
    expect(res.status).toBe(202);
    expect(res.json).toEqual({});
    expect(res.headers.get('x-ratelimit-limit')).toBe('60');
    expect(res.headers.get('x-ratelimit-remaining')).toBe('59');
    expect(Number(res.headers.get('x-ratelimit-reset'))).toBeGreaterThan(Date.now() / 1000);
    expect(tokens.map((t) => sim.isAlive(t))).toEqual([false, false, false, false, false]);
    expect(sim.revokeCalls()).toEqual([expect.objectContaining({ status: 202, count: 5, authenticated: false })]);
  });

  it('When the dotcom call carries a credential, then it answers 403 and revokes nothing', async () => {
    sim = await startGitHubSimulator();
    const token = sim.createToken('ghp_');
    const res = await revoke([token], sim.createToken('ghp_'));
    expect(res.status).toBe(403);
    expect(res.headers.get('x-ratelimit-remaining')).toBeNull();
    expect(sim.isAlive(token)).toBe(true);
  });

  it.each([
    ['an empty list', []],
    ['1,001 tokens', Array.from({ length: 1001 }, () => makeToken('ghp_'))],
    ['a malformed token among good ones', [makeToken('ghp_'), 'ghp_short']],
    ['an installation token', [makeToken('ghs_')]],
    ['no list at all', 'ghp_x'],
  ])('When the body holds %s, then it answers 422 Validation Failed and revokes nothing', async (_what, credentials) => {
    sim = await startGitHubSimulator();
    const live = sim.createToken('ghp_');
    const res = await revoke(Array.isArray(credentials) && credentials.length > 0 ? [live, ...credentials] : credentials);
    expect(res.status).toBe(422);
    expect(res.json?.['message']).toBe('Validation Failed');
    expect(sim.isAlive(live)).toBe(true);
  });

  it('When 1,000 tokens are sent, then it accepts them', async () => {
    sim = await startGitHubSimulator();
    const tokens = Array.from({ length: 1000 }, () => sim.createToken('github_pat_'));
    expect((await revoke(tokens)).status).toBe(202);
    expect(tokens.some((t) => sim.isAlive(t))).toBe(false);
  });

  it.each([429, 403] as const)('When the hourly limit is exceeded, then it answers %i with x-ratelimit-remaining 0 and the reset', async (status) => {
    sim = await startGitHubSimulator({ requestsPerHour: 2, rateLimitStatus: status });
    expect((await revoke([makeToken('ghp_')])).status).toBe(202);
    expect((await revoke([makeToken('ghp_')])).status).toBe(202);
    const res = await revoke([makeToken('ghp_')]);
    expect(res.status).toBe(status);
    expect(res.headers.get('x-ratelimit-remaining')).toBe('0');
    expect(res.headers.get('x-ratelimit-used')).toBe('2');
    expect(res.headers.get('x-ratelimit-resource')).toBe('core');
    const reset = Number(res.headers.get('x-ratelimit-reset')) * 1000;
    expect(reset).toBeGreaterThan(Date.now() + 3_500_000);
  });

  it('When revocation is asynchronous, then the token works until revokeDelayMs after the 202', async () => {
    sim = await startGitHubSimulator({ revokeDelayMs: 150 });
    const token = sim.createToken('ghp_');
    expect((await revoke([token])).status).toBe(202);
    expect((await request('GET', '/user', { bearer: token })).status).toBe(200);
    await new Promise((r) => setTimeout(r, 200));
    expect((await request('GET', '/user', { bearer: token })).status).toBe(401);
  });

  it('When GHES mode is on, then routes live under /api/v3 and the revoke call needs the admin token', async () => {
    sim = await startGitHubSimulator({ mode: 'ghes' });
    expect(sim.apiUrl).toBe(`${sim.url}/api/v3`);
    const token = sim.createToken('ghp_');
    expect((await revoke([token])).status).toBe(401);
    expect((await revoke([token], makeToken('ghp_'))).json?.['message']).toBe('Bad credentials');
    expect((await revoke([token], sim.adminToken)).status).toBe(202);
    expect((await fetch(`${sim.url}/credentials/revoke`, { method: 'POST' })).status).toBe(404);
    expect(sim.revokeCalls().map((c) => [c.status, c.authenticated])).toEqual([[401, false], [401, true], [202, true]]);
    expect((await request('GET', '/user', { bearer: sim.adminToken })).status).toBe(200);
  });
});

describe('GitHub simulator: per-token routes', () => {
  it('When GET /user is asked, then live access tokens answer 200, dead or unknown ones 401 Bad credentials, refresh tokens 401, installation tokens 403', async () => {
    sim = await startGitHubSimulator();
    const live = ['ghp_', 'github_pat_', 'gho_', 'ghu_'] as const;
    for (const p of live) {
      const res = await request('GET', '/user', { bearer: sim.createToken(p) });
      expect([p, res.status, typeof res.json?.['login']]).toEqual([p, 200, 'string']);
    }
    const dead = await request('GET', '/user', { bearer: sim.createToken('ghp_', { alive: false }) });
    expect(dead.status).toBe(401);
    expect(dead.json).toEqual({ message: 'Bad credentials', documentation_url: 'https://docs.github.com/rest' });
    expect((await request('GET', '/user', { bearer: makeToken('ghp_') })).status).toBe(401);
    expect((await request('GET', '/user', { bearer: sim.createToken('ghr_') })).status).toBe(401);
    const ghs = await request('GET', '/user', { bearer: sim.createToken('ghs_') });
    expect([ghs.status, ghs.json?.['message']]).toEqual([403, 'Resource not accessible by integration']);
  });

  it('When an installation token deletes itself, then it answers 204, then 401 everywhere', async () => {
    sim = await startGitHubSimulator();
    const token = sim.createToken('ghs_');
    expect((await request('GET', '/installation/repositories?per_page=1', { bearer: token })).status).toBe(200);
    expect((await request('DELETE', '/installation/token', { bearer: token })).status).toBe(204);
    expect((await request('GET', '/installation/repositories?per_page=1', { bearer: token })).status).toBe(401);
    expect((await request('DELETE', '/installation/token', { bearer: token })).status).toBe(401);
  });

  it('When autoCreate is on, then a well-formed token never seen is live until revoked', async () => {
    sim = await startGitHubSimulator({ autoCreate: true });
    const token = makeToken('gho_');
    expect((await request('GET', '/user', { bearer: token })).status).toBe(200);
    expect((await revoke([token])).status).toBe(202);
    expect((await request('GET', '/user', { bearer: token })).status).toBe(401);
  });
});

describe('GitHub simulator: faults', () => {
  it('When a rate-limit storm is set on GET /user, then the next N calls answer 403 with remaining 0 and the reset, then normal answers', async () => {
    sim = await startGitHubSimulator();
    const token = sim.createToken('ghp_');
    sim.faults.rateLimitStorm('user', 2, { status: 403, resetInMs: 5000 });
    for (let i = 0; i < 2; i++) {
      const res = await request('GET', '/user', { bearer: token });
      expect(res.status).toBe(403);
      expect(res.headers.get('x-ratelimit-remaining')).toBe('0');
      expect(Number(res.headers.get('x-ratelimit-reset'))).toBeGreaterThanOrEqual(Math.floor(Date.now() / 1000) + 4);
    }
    expect((await request('GET', '/user', { bearer: token })).status).toBe(200);
  });

  it('When a secondary limit is set with Retry-After, then the answer carries it', async () => {
    sim = await startGitHubSimulator();
    sim.faults.rateLimitStorm('revoke', 1, { status: 429, retryAfterSeconds: 7 });
    const res = await revoke([makeToken('ghp_')]);
    expect([res.status, res.headers.get('retry-after')]).toEqual([429, '7']);
    expect(String(res.json?.['message'])).toMatch(/secondary rate limit/);
  });

  it('When the spammed fault or a 5xx fault is set, then the revoke call answers it and revokes nothing', async () => {
    sim = await startGitHubSimulator();
    const token = sim.createToken('ghp_');
    sim.faults.spamNext(1);
    sim.faults.failNext('revoke', 1, 502);
    const spammed = await revoke([token]);
    expect([spammed.status, spammed.json?.['message']]).toEqual([422, 'Validation failed, or the endpoint has been spammed.']);
    expect((await revoke([token])).status).toBe(502);
    expect(sim.isAlive(token)).toBe(true);
    expect((await revoke([token])).status).toBe(202);
    expect(sim.revokeCalls().map((c) => c.status)).toEqual([422, 502, 202]);
  });
});
