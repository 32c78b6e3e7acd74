import { startSlackSimulator, type SlackSimulator } from '../../simulator/slack/index.js';

interface Reply {
  status: number;
  headers: Headers;
  body: unknown;
}

async function revoke(sim: SlackSimulator, opts: { bearer?: string; form?: Record<string, string>; query?: string; method?: string } = {}): Promise<Reply> {
  const headers: Record<string, string> = {};
  if (opts.bearer !== undefined) headers['Authorization'] = `Bearer ${opts.bearer}`;
  let body: string | undefined;
  if (opts.form) {
    headers['Content-Type'] = 'application/x-www-form-urlencoded';
    body = new URLSearchParams(opts.form).toString();
  }
  const res = await fetch(`${sim.url}/auth.revoke${opts.query ?? ''}`, { method: opts.method ?? 'POST', headers, ...(body === undefined ? {} : { body }) });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: (res.headers.get('content-type') ?? '').includes('json') ? (JSON.parse(text) as unknown) : text };
}

describe('Slack simulator', () => {
  let sim: SlackSimulator;
  afterEach(async () => sim.close());

  describe('auth.revoke', () => {
    beforeEach(async () => (sim = await startSlackSimulator()));

    it('When started, then its URL is a loopback address ending with /api', () => {
      expect(sim.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/api$/);
    });

    it('When a live token revokes itself by header, then 200 {ok:true,revoked:true} and it is dead', async () => {
      const token = sim.createToken('user');
      const r = await revoke(sim, { bearer: token });
      expect(r).toMatchObject({ status: 200, body: { ok: true, revoked: true } });
      expect(r.headers.get('content-type')).toMatch(/^application\/json/);
      expect(sim.isAlive(token)).toBe(false);
      expect(sim.revokeCalls()).toEqual([expect.objectContaining({ seq: 1, status: 200, token, tokenFrom: 'header', revoked: true, error: null, fault: null })]);
    });

    it('When the token is a form field, then it is revoked too', async () => {
      const token = sim.createToken();
      expect((await revoke(sim, { form: { token } })).body).toEqual({ ok: true, revoked: true });
      expect(sim.revokeCalls()[0]).toMatchObject({ tokenFrom: 'form', fields: ['token'] });
    });

    it('When the token is in the query string (GET), then it is revoked too', async () => {
      const token = sim.createToken();
      expect((await revoke(sim, { method: 'GET', query: `?token=${token}` })).body).toEqual({ ok: true, revoked: true });
    });

    it.each(['true', '1'])('When test=%s, then {ok:true,revoked:false} and the token lives', async (test) => {
      const token = sim.createToken();
      expect(await revoke(sim, { bearer: token, form: { test } })).toMatchObject({ status: 200, body: { ok: true, revoked: false } });
      expect(sim.isAlive(token)).toBe(true);
    });

    it('When a token is revoked twice, then the second answer is 200 invalid_auth', async () => {
      const token = sim.createToken();
      await revoke(sim, { bearer: token });
      expect(await revoke(sim, { bearer: token })).toMatchObject({ status: 200, body: { ok: false, error: 'invalid_auth' } });
    });

    it('When the token is unknown (no sandbox), then 200 invalid_auth and it stays unknown', async () => {
      expect(await revoke(sim, { bearer: 'xoxb-123456789012-1234567890123-abcdefghijklmnopqrstuvwx' })).toMatchObject({ status: 200, body: { ok: false, error: 'invalid_auth' } });
    });

    it('When a token was seeded dead, then 200 invalid_auth', async () => {
      sim.seed('xoxp-1-2-3-deadbeefdeadbeef', false);
      expect((await revoke(sim, { bearer: 'xoxp-1-2-3-deadbeefdeadbeef' })).body).toEqual({ ok: false, error: 'invalid_auth' });
    });

    it('When no token is sent, then 200 not_authed', async () => {
      expect(await revoke(sim)).toMatchObject({ status: 200, body: { ok: false, error: 'not_authed' } });
    });

    it('When another method is called, then 404 unknown_method', async () => {
      const res = await fetch(`${sim.url}/chat.postMessage`, { method: 'POST' });
      expect(res.status).toBe(404);
      expect(await res.json()).toEqual({ ok: false, error: 'unknown_method' });
    });

    it('When the caller sends a User-Agent, then the call log keeps it (and the content type)', async () => {
      await fetch(`${sim.url}/auth.revoke`, { method: 'POST', headers: { 'User-Agent': 'token-revocation-api/0.1.0', 'Content-Type': 'application/x-www-form-urlencoded' } });
      expect(sim.calls()[0]).toMatchObject({ userAgent: 'token-revocation-api/0.1.0', contentType: 'application/x-www-form-urlencoded', fields: [] });
    });
  });

  describe('sandbox mode', () => {
    beforeEach(async () => (sim = await startSlackSimulator({ autoCreate: true })));

    it('When a well-formed token is new, then it is live, and revoked once', async () => {
      const token = 'xoxb-123456789012-1234567890123-abcdefghijklmnopqrstuvwx';
      expect((await revoke(sim, { bearer: token })).body).toEqual({ ok: true, revoked: true });
      expect((await revoke(sim, { bearer: token })).body).toEqual({ ok: false, error: 'invalid_auth' });
    });

    it('When a malformed token is new, then it is invalid_auth', async () => {
      expect((await revoke(sim, { bearer: 'nonsense' })).body).toEqual({ ok: false, error: 'invalid_auth' });
    });
  });

  describe('rate limit', () => {
    it('When more than perMinute calls come in a window, then 429 with Retry-After (seconds) and ratelimited', async () => {
      sim = await startSlackSimulator({ perMinute: 3 });
      const answers = [];
      for (let i = 0; i < 5; i++) answers.push(await revoke(sim, { bearer: sim.createToken() }));
      expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 429, 429]);
      const limited = answers[3];
      expect(limited?.body).toEqual({ ok: false, error: 'ratelimited' });
      expect(Number(limited?.headers.get('retry-after'))).toBeGreaterThanOrEqual(59);
      expect(Number(limited?.headers.get('retry-after'))).toBeLessThanOrEqual(60);
      expect(sim.revokeCalls({ fault: 'rate_limit' })).toHaveLength(2);
      expect(sim.revokeCalls({ status: 429 }).every((c) => !c.revoked)).toBe(true);
    });

    it('When the default tier applies, then the 51st call in a minute is refused', async () => {
      sim = await startSlackSimulator();
      const statuses = [];
      for (let i = 0; i < 51; i++) statuses.push((await revoke(sim)).status);
      expect(statuses.filter((s) => s === 200)).toHaveLength(50);
      expect(statuses[50]).toBe(429);
    });

    it('When the window passes, then calls are admitted again', async () => {
      sim = await startSlackSimulator({ perMinute: 1, windowMs: 200 });
      expect((await revoke(sim)).status).toBe(200);
      const refused = await revoke(sim);
      expect(refused.status).toBe(429);
      expect(refused.headers.get('retry-after')).toBe('1'); // whole seconds, at least 1
      await new Promise((r) => setTimeout(r, 250));
      expect((await revoke(sim)).status).toBe(200);
    });
  });

  describe('faults', () => {
    beforeEach(async () => (sim = await startSlackSimulator()));

    it('When a 429 storm of 2 is injected, then exactly the next 2 calls are 429 and the token survives them', async () => {
      const token = sim.createToken();
      sim.faults.rateLimitNext(2, 3);
      const a = await revoke(sim, { bearer: token });
      expect(a).toMatchObject({ status: 429, body: { ok: false, error: 'ratelimited' } });
      expect(a.headers.get('retry-after')).toBe('3');
      expect((await revoke(sim, { bearer: token })).status).toBe(429);
      expect(sim.isAlive(token)).toBe(true);
      expect((await revoke(sim, { bearer: token })).body).toEqual({ ok: true, revoked: true });
      expect(sim.faults.pending()).toBe(0);
    });

    it('When 5xx is injected for 2 calls, then those answer 503 text and the third is real', async () => {
      const token = sim.createToken();
      sim.faults.failNext(2, 503);
      expect((await revoke(sim, { bearer: token })).status).toBe(503);
      const b = await revoke(sim, { bearer: token });
      expect(b.status).toBe(503);
      expect(b.headers.get('content-type')).toBe('text/html');
      expect((await revoke(sim, { bearer: token })).body).toEqual({ ok: true, revoked: true });
    });

    it('When an API error is injected, then HTTP 200 {ok:false,error} and nothing is revoked', async () => {
      const token = sim.createToken();
      sim.faults.errorNext(1, 'internal_error');
      expect(await revoke(sim, { bearer: token })).toMatchObject({ status: 200, body: { ok: false, error: 'internal_error' } });
      expect(sim.isAlive(token)).toBe(true);
    });

    it('When a drop is injected, then the connection closes with no answer and the token lives', async () => {
      const token = sim.createToken();
      sim.faults.dropNext(1);
      await expect(revoke(sim, { bearer: token })).rejects.toThrow();
      expect(sim.isAlive(token)).toBe(true);
      expect(sim.revokeCalls()).toEqual([expect.objectContaining({ status: 0, fault: 'drop', revoked: false })]);
    });

    it('When a drop-after is injected, then the token dies but the answer is lost', async () => {
      const token = sim.createToken();
      sim.faults.dropAfterNext(1);
      await expect(revoke(sim, { bearer: token })).rejects.toThrow();
      expect(sim.isAlive(token)).toBe(false);
      expect(sim.revokeCalls()[0]).toMatchObject({ status: 0, fault: 'drop_after', revoked: true });
    });

    it('When a call is slowed, then it answers late but really', async () => {
      const token = sim.createToken();
      sim.faults.slowNext(1, 150);
      const t0 = Date.now();
      expect((await revoke(sim, { bearer: token })).body).toEqual({ ok: true, revoked: true });
      expect(Date.now() - t0).toBeGreaterThanOrEqual(140);
      expect(sim.revokeCalls()[0]).toMatchObject({ fault: 'slow', revoked: true });
    });

    it('When reset, then tokens, calls and faults are forgotten', async () => {
      const token = sim.createToken();
      sim.faults.failNext(3, 500);
      await revoke(sim, { bearer: token });
      sim.reset();
      expect(sim.isAlive(token)).toBe(false);
      expect(sim.calls()).toEqual([]);
      expect(sim.faults.pending()).toBe(0);
    });

    it('When a fault is given a bad count, then it says so', () => {
      expect(() => sim.faults.rateLimitNext(0)).toThrow(/positive integer/);
    });
  });
});
