// The Slack provider against the Slack simulator, with the Redis-backed services a worker gives it, driven as the worker would.
import type { Provider, ProviderServices } from '../../providers/contract.js';
import { createSlackProvider, SLACK_DEFAULTS, type SlackSettings } from '../../providers/slack/index.js';
import { fingerprint } from '../../src/domain/fingerprint.js';
import type { Outcome } from '../../src/domain/outcome.js';
import { RedisBreakers } from '../../src/queue/breakers.js';
import { RedisCallBudget } from '../../src/queue/call-budget.js';
import { RedisOutboundLimiter } from '../../src/queue/outbound-limiter.js';
import { RedisProviderState } from '../../src/queue/provider-state.js';
import { SLACK_TOKEN_KINDS, startSlackSimulator, type SlackSimulator, type SlackSimulatorOptions } from '../../simulator/slack/index.js';
import { captureLogs, type CapturedLogs } from '../support/logs.js';
import { dumpRedis } from '../support/redis-scan.js';
import { useStack } from '../support/stack.js';

const USER_AGENT = 'token-revocation-api/0.0.0-test';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('Slack provider', () => {
  // Redis only: the provider is driven directly, each test against a Slack simulator with options of its own.
  const stack = useStack({ gitlab: false, service: false });
  let logs: CapturedLogs;
  let services: ProviderServices;
  let sim: SlackSimulator | undefined;
  /** Every token any test used, for the final scans of logs and Redis. */
  const used: string[] = [];

  beforeAll(() => {
    const client = stack.client;
    logs = captureLogs('debug');
    services = {
      limiter: new RedisOutboundLimiter(client, 30_000),
      budget: new RedisCallBudget(client),
      state: new RedisProviderState(client, 'slack'),
      breakers: new RedisBreakers(client, logs.logger),
      logger: logs.logger,
      userAgent: USER_AGENT,
    };
  });
  afterEach(async () => {
    await sim?.close();
    sim = undefined;
  });

  async function setUp(simOptions: SlackSimulatorOptions = {}, settings: Partial<SlackSettings> = {}): Promise<{ sim: SlackSimulator; provider: Provider }> {
    sim = await startSlackSimulator(simOptions);
    return { sim, provider: createSlackProvider({ ...SLACK_DEFAULTS, perSecond: 50, timeoutMs: 2000, ...settings, apiUrl: sim.url }, services) };
  }

  /** As the worker does: a `rate_limited` answer is asked again after its wait, without using an attempt. */
  async function drive(provider: Provider, token: string): Promise<{ outcome: Outcome; waits: number }> {
    used.push(token);
    const request = { token, kind: 'slack_token', type: 'gitleaks_rule_id_slack_token', fingerprint: fingerprint(token) };
    for (let waits = 0; waits < 20; waits++) {
      const outcome = await provider.revoke(request);
      if (outcome.status !== 'rate_limited') return { outcome, waits };
      await sleep(outcome.retryAfterMs ?? 1000);
    }
    throw new Error('still rate limited after 20 waits');
  }

  it('When its kinds are listed, then it is named slack and offers the Slack token rules under both identifier types, never webhooks', async () => {
    const { provider } = await setUp();
    expect(provider.name).toBe('slack');
    const ids = ['slack_token', 'slackappconfigurationtoken', 'slackappconfigurationrefreshtoken'];
    expect(provider.kinds.flatMap((k) => k.types)).toEqual(['gitleaks_rule_id', 'gitlab_secret_scanner_rule_id'].flatMap((id) => ids.map((r) => `${id}_${r}`)));
    expect(provider.kinds.flatMap((k) => k.types).filter((t) => t.includes('webhook') || t.includes('applevel'))).toEqual([]);
    expect(provider.probe).toBeUndefined(); // no credential of ours, so no breaker to re-check
  });

  it('When a live token of each prefix leaks, then each is revoked with exactly one auth.revoke call, by itself', async () => {
    const { sim, provider } = await setUp();
    const tokens = SLACK_TOKEN_KINDS.map((kind) => sim.createToken(kind));
    const results = await Promise.all(tokens.map((t) => drive(provider, t)));
    expect(results.map((r) => r.outcome)).toEqual(tokens.map(() => ({ status: 'revoked', via: 'auth_revoke', confirmed: true })));
    expect(tokens.filter((t) => sim.isAlive(t))).toEqual([]);
    const calls = sim.revokeCalls();
    expect(calls).toHaveLength(tokens.length);
    for (const t of tokens) expect(calls.filter((c) => c.token === t)).toHaveLength(1);
    for (const c of calls) {
      expect(c).toMatchObject({ method: 'POST', status: 200, tokenFrom: 'header', test: false, fields: [], userAgent: USER_AGENT, contentType: 'application/x-www-form-urlencoded' });
    }
  });

  it('When tokens are already dead or unknown, then each is already_gone after one call (a refresh token unconfirmed)', async () => {
    const { sim, provider } = await setUp();
    const dead = [sim.createToken('bot'), sim.createToken('user'), sim.createToken('refresh')];
    for (const t of dead) sim.seed(t, false);
    const unknown = 'xoxb-111111111111-2222222222222-abcdefghijklmnopqrstuvwx';
    const results = await Promise.all([...dead, unknown].map((t) => drive(provider, t)));
    expect(results.map((r) => r.outcome)).toEqual([
      { status: 'already_gone', via: 'auth_revoke', confirmed: true },
      { status: 'already_gone', via: 'auth_revoke', confirmed: true },
      { status: 'already_gone', via: 'auth_revoke', confirmed: false },
      { status: 'already_gone', via: 'auth_revoke', confirmed: true },
    ]);
    expect(sim.revokeCalls()).toHaveLength(4);
  });

  it('When a 429 storm of 4 hits 6 tokens, then it is waited out: every token revoked, calls = 6 + 4', async () => {
    const { sim, provider } = await setUp();
    const tokens = Array.from({ length: 6 }, () => sim.createToken('bot'));
    sim.faults.rateLimitNext(4, 1);
    const t0 = Date.now();
    const results = await Promise.all(tokens.map((t) => drive(provider, t)));
    expect(results.every((r) => r.outcome.status === 'revoked')).toBe(true);
    expect(results.reduce((n, r) => n + r.waits, 0)).toBe(4);
    expect(sim.revokeCalls()).toHaveLength(10);
    expect(sim.revokeCalls({ status: 429 })).toHaveLength(4);
    for (const t of tokens) expect(sim.revokeCalls({ token: t, status: 200 })).toHaveLength(1);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(950); // Retry-After: 1 was honoured
  });

  it("When Slack's own tier limit is exceeded, then its Retry-After is honoured and each token still takes one successful call", async () => {
    const { sim, provider } = await setUp({ perMinute: 3, windowMs: 1000 });
    const tokens = Array.from({ length: 7 }, () => sim.createToken('user'));
    const results = await Promise.all(tokens.map((t) => drive(provider, t)));
    expect(results.every((r) => r.outcome.status === 'revoked')).toBe(true);
    const limited = sim.revokeCalls({ status: 429 }).length;
    expect(limited).toBeGreaterThan(0);
    expect(sim.revokeCalls()).toHaveLength(tokens.length + limited);
    for (const t of tokens) expect(sim.revokeCalls({ token: t, status: 200 })).toHaveLength(1);
  });

  it('When perSecond is 5, then 6 calls are spread over at least 0.8 s through the shared Redis limiter', async () => {
    const { sim, provider } = await setUp({}, { perSecond: 5, concurrency: 4 });
    const tokens = Array.from({ length: 6 }, () => sim.createToken('bot'));
    await Promise.all(tokens.map((t) => drive(provider, t)));
    const at = sim.revokeCalls().map((c) => c.at);
    // Slots 200 ms apart, so the last call cannot leave before 1 s after the first slot. A timer of the first call
    // that fires late (a loaded machine) narrows single gaps, never the spread by more than one slot: 4 slots at least.
    expect(Math.max(...at) - Math.min(...at)).toBeGreaterThanOrEqual(4 * 200 - 5);
    expect(await stack.client.keys('trapi:outbound:slack:*')).not.toEqual([]);
  });

  it('When tokens are malformed, then they fail as invalid_format and nothing is sent', async () => {
    const { sim, provider } = await setUp({ autoCreate: true });
    const malformed = ['xoxb-', 'glpat-abcdefghijklmnopqrst', 'https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX', 'xapp-1-A052FGTS2DL-5171572773297-610b6a11f4b7eb819e87b767', 'xoxb-123456789\r\nX-Injected: 1'];
    const results = await Promise.all(malformed.map((t) => drive(provider, t)));
    for (const r of results) expect(r.outcome).toMatchObject({ status: 'permanent', reason: 'invalid_format' });
    expect(sim.calls()).toEqual([]);
  });

  it('When Slack answers 5xx twice, then the attempts are transient and the third revokes', async () => {
    const { sim, provider } = await setUp();
    const token = sim.createToken('bot');
    sim.faults.failNext(2, 503);
    expect((await drive(provider, token)).outcome).toMatchObject({ status: 'transient', reason: 'http_503' });
    expect((await drive(provider, token)).outcome).toMatchObject({ status: 'transient', reason: 'http_503' });
    expect((await drive(provider, token)).outcome).toEqual({ status: 'revoked', via: 'auth_revoke', confirmed: true });
    expect(sim.revokeCalls()).toHaveLength(3);
  });

  it('When Slack answers internal_error, then transient with the answer possibly lost', async () => {
    const { sim, provider } = await setUp();
    const token = sim.createToken('bot');
    sim.faults.errorNext(1, 'internal_error');
    expect((await drive(provider, token)).outcome).toEqual({ status: 'transient', reason: 'slack_internal_error', summary: '200 internal_error', lost: { status: 'revoked', via: 'auth_revoke' } });
    expect(sim.isAlive(token)).toBe(true);
  });

  it('When the connection drops before Slack acts, then transient (lost), and the next attempt revokes', async () => {
    const { sim, provider } = await setUp();
    const token = sim.createToken('bot');
    sim.faults.dropNext(1);
    expect((await drive(provider, token)).outcome).toMatchObject({ status: 'transient', reason: 'ECONNRESET', lost: { status: 'revoked', via: 'auth_revoke' } });
    expect((await drive(provider, token)).outcome).toMatchObject({ status: 'revoked' });
  });

  it('When the answer is lost after Slack revoked, then transient (lost), and the next attempt finds it already gone', async () => {
    const { sim, provider } = await setUp();
    const token = sim.createToken('user');
    sim.faults.dropAfterNext(1);
    expect((await drive(provider, token)).outcome).toMatchObject({ status: 'transient', lost: { status: 'revoked', via: 'auth_revoke' } });
    expect(sim.isAlive(token)).toBe(false);
    expect((await drive(provider, token)).outcome).toEqual({ status: 'already_gone', via: 'auth_revoke', confirmed: true });
  });

  it('When Slack is slower than timeoutMs, then the attempt times out as transient (lost)', async () => {
    const { sim, provider } = await setUp({}, { timeoutMs: 200 });
    const token = sim.createToken('bot');
    sim.faults.slowNext(1, 600);
    expect((await drive(provider, token)).outcome).toMatchObject({ status: 'transient', reason: 'TimeoutError', lost: { status: 'revoked' } });
  });

  it('When Slack is unreachable, then transient ECONNREFUSED (nothing can have been done)', async () => {
    const { sim, provider } = await setUp();
    const token = sim.createToken('bot');
    await sim.close();
    const { outcome } = await drive(provider, token);
    expect(outcome).toMatchObject({ status: 'transient', reason: 'ECONNREFUSED' });
    expect(outcome).not.toHaveProperty('lost');
  });

  it('When settings are invalid, then building the provider fails naming the setting', () => {
    expect(() => createSlackProvider({ ...SLACK_DEFAULTS, perSecond: 0 }, services)).toThrow(/perSecond/);
  });

  it('When everything above has run, then no token (nor a full fingerprint) is in any log line, and no token in any Redis key or value', async () => {
    expect(used.length).toBeGreaterThan(30);
    const text = logs.lines.join('\n');
    expect(logs.lines.length).toBeGreaterThan(30);
    const dump = (await dumpRedis(stack.client)).toString('latin1');
    for (const t of used.filter((t) => t.length >= 8)) {
      expect(text).not.toContain(t);
      expect(text).not.toContain(fingerprint(t));
      expect(dump).not.toContain(t);
    }
    const records = logs.records().filter((r) => r['provider'] === 'slack');
    for (const r of records) expect(String(r['fp'])).toMatch(/^[0-9a-f]{12}$/);
  });
});
