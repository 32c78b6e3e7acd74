// The GitHub provider driven as the worker drives it (bounded concurrency, come back after retryAfterMs), on Redis-backed services and the simulator.
import type { Redis } from 'ioredis';
import type { Provider, ProviderServices, RevokeRequest } from '../../providers/contract.js';
import { createGitHubProvider, type GitHubSettings } from '../../providers/github/index.js';
import { startGitHubSimulator, type GitHubSimulator, type TokenPrefix } from '../../simulator/github/index.js';
import { fingerprint } from '../../src/domain/fingerprint.js';
import { isGone, type Outcome } from '../../src/domain/outcome.js';
import { RedisBreakers } from '../../src/queue/breakers.js';
import { RedisCallBudget } from '../../src/queue/call-budget.js';
import { RedisOutboundLimiter } from '../../src/queue/outbound-limiter.js';
import { RedisProviderState } from '../../src/queue/provider-state.js';
import { captureLogs, type CapturedLogs } from '../support/logs.js';
import { dumpRedis } from '../support/redis-scan.js';
import { useStack } from '../support/stack.js';

const KIND_OF: Record<TokenPrefix, [string, string]> = {
  ghp_: ['personal_access_token', 'gitleaks_rule_id_github_personal_access_token'],
  github_pat_: ['fine_grained_personal_access_token', 'gitleaks_rule_id_githubfinegrainedpersonalaccesstoken'],
  gho_: ['oauth_access_token', 'gitleaks_rule_id_github_oauth_access_token'],
  ghu_: ['app_token', 'gitleaks_rule_id_github_app_token'],
  ghs_: ['app_token', 'gitleaks_rule_id_github_app_token'],
  ghr_: ['refresh_token', 'gitleaks_rule_id_github_refresh_token'],
  'v1.': ['app_installation_token', 'gitleaks_rule_id_githubappinstallationtoken'],
};

function requestFor(token: string, prefix: TokenPrefix): RevokeRequest {
  const [kind, type] = KIND_OF[prefix];
  return { token, kind, type, fingerprint: fingerprint(token) };
}

function services(client: Redis, logs: CapturedLogs): ProviderServices & { budget: RedisCallBudget; breakers: RedisBreakers } {
  return {
    limiter: new RedisOutboundLimiter(client, 30_000),
    budget: new RedisCallBudget(client),
    state: new RedisProviderState(client, 'github'),
    breakers: new RedisBreakers(client, logs.logger),
    logger: logs.logger,
    userAgent: 'token-revocation-api/test',
  };
}

/** Small numbers, so that a test takes seconds; per-token calls fast enough for thousands of confirmations. */
function settings(sim: GitHubSimulator, overrides: Partial<GitHubSettings> = {}): GitHubSettings {
  return { apiUrl: sim.apiUrl, token: undefined, requestsPerHour: 60, batchWaitMs: 200, confirmAfterMs: 300, resubmitAfterMs: 1500, maxSubmissions: 3, perSecond: 2000, concurrency: 16, timeoutMs: 5000, ...overrides };
}

const build = (sim: GitHubSimulator, client: Redis, logs: CapturedLogs, overrides: Partial<GitHubSettings> = {}): Provider => createGitHubProvider(settings(sim, overrides), services(client, logs));

interface Driven {
  readonly request: RevokeRequest;
  /** Every outcome the provider answered, in order. */
  readonly outcomes: Outcome[];
  readonly last: Outcome;
}

interface DriveOptions {
  /** Jobs in flight at once, as the worker's concurrency (default 20). */
  readonly concurrency?: number;
  /** Stop asking a job once it answers this (default: terminal outcomes). */
  readonly settled?: (o: Outcome) => boolean;
  /** A job told to wait longer than this is parked (the worker would delay it that long). */
  readonly parkAfterMs?: number;
  readonly deadlineMs?: number;
}

const terminal = (o: Outcome): boolean => isGone(o) || o.status === 'submitted' || o.status === 'permanent' || o.status === 'needs_manual';

/** Asks the provider about each request until each settles, honouring retryAfterMs as the queue would. */
export async function drive(provider: Provider, requests: readonly RevokeRequest[], opts: DriveOptions = {}): Promise<Driven[]> {
  const settled = opts.settled ?? terminal;
  const deadline = Date.now() + (opts.deadlineMs ?? 25_000);
  const items = requests.map((request) => ({ request, outcomes: [] as Outcome[], readyAt: 0, active: false, done: false }));
  const worker = async () => {
    while (Date.now() < deadline) {
      const open = items.filter((i) => !i.done && !i.active);
      if (open.length === 0) {
        if (items.every((i) => i.done)) return;
        await sleep(10);
        continue;
      }
      const next = open.reduce((a, b) => (b.readyAt < a.readyAt ? b : a));
      if (next.readyAt > Date.now()) {
        await sleep(Math.min(25, next.readyAt - Date.now()));
        continue;
      }
      next.active = true;
      const o = await provider.revoke(next.request);
      next.outcomes.push(o);
      next.active = false;
      const wait = o.status === 'pending' ? o.retryAfterMs : o.status === 'rate_limited' ? (o.retryAfterMs ?? 1000) : o.status === 'transient' ? 100 : 200;
      if (settled(o) || wait > (opts.parkAfterMs ?? 60_000)) next.done = true;
      else next.readyAt = Date.now() + wait;
    }
  };
  await Promise.all(Array.from({ length: opts.concurrency ?? 20 }, worker));
  return items.map((i) => ({ request: i.request, outcomes: i.outcomes, last: i.outcomes[i.outcomes.length - 1] as Outcome }));
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Counts of last outcomes, keyed `status` (+ `:reason`, `:confirmed`, `:held`), for readable assertions. */
function tally(driven: readonly Driven[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const { last } of driven) {
    const key = [last.status, 'reason' in last ? last.reason : undefined, 'via' in last ? last.via : undefined, 'confirmed' in last ? `confirmed=${String(last.confirmed)}` : undefined, 'held' in last && last.held ? 'held' : undefined]
      .filter(Boolean)
      .join(':');
    out[key] = (out[key] ?? 0) + 1;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------------

// Redis only: the provider is driven directly, each test against a GitHub simulator with options of its own.
const stack = useStack({ gitlab: false, service: false });
let sim: GitHubSimulator | undefined;
let logs: CapturedLogs;
const providers: Provider[] = [];
/** Every token a test made: none may show up in a log line or in Redis. */
let issued: string[] = [];

beforeEach(async () => {
  await stack.client.flushall(); // the revoke budget is per hour: each test starts with a full one
  logs = captureLogs('debug');
  issued = [];
});
afterEach(async () => {
  await Promise.all(providers.splice(0).map((p) => p.close?.()));
  await sim?.close();
  sim = undefined;
});

function provider(s: GitHubSimulator, overrides: Partial<GitHubSettings> = {}): Provider {
  const p = build(s, stack.client, logs, overrides);
  providers.push(p);
  return p;
}

function tokens(s: GitHubSimulator, prefix: TokenPrefix, n: number, opts: { alive?: boolean; survivesRevoke?: boolean } = {}): RevokeRequest[] {
  return Array.from({ length: n }, () => {
    const t = s.createToken(prefix, opts);
    issued.push(t);
    return requestFor(t, prefix);
  });
}

async function expectNoTokenLeak(): Promise<void> {
  const dump = (await dumpRedis(stack.client)).toString('utf8');
  const text = logs.lines.join('\n');
  expect(issued.filter((t) => dump.includes(t) || text.includes(t))).toEqual([]);
  // And nothing shaped like one, whoever's it is.
  expect(/gh[pousr]_[A-Za-z0-9]{36}|github_pat_/.test(dump + text)).toBe(false);
}

const revokeCalls = () => sim?.revokeCalls() ?? [];

describe('GitHub provider (Redis-backed services, simulator)', () => {
  it('When 2,500 tokens of every batchable prefix arrive, then they go out in at most 6 unauthenticated calls of at most 1,000, and end revoked and confirmed (refresh tokens submitted, unconfirmed)', async () => {
    sim = await startGitHubSimulator({ revokeDelayMs: 100 });
    // 20 jobs at a time take about a second to offer 2,500 tokens here: a window that long gathers full batches.
    const p = provider(sim, { batchWaitMs: 1000 });
    const requests = (['ghp_', 'github_pat_', 'gho_', 'ghu_', 'ghr_'] as const).flatMap((prefix) => tokens(sim as GitHubSimulator, prefix, 500));
    const started = Date.now();
    const driven = await drive(p, requests);
    const ms = Date.now() - started;
    expect(tally(driven)).toEqual({ 'revoked:credentials_revoke:confirmed=true': 2000, 'submitted:credentials_revoke:confirmed=false': 500 });
    const calls = revokeCalls();
    expect(calls.length).toBeLessThanOrEqual(Math.ceil(2500 / 1000) + 3);
    expect(calls.every((c) => c.status === 202 && c.count <= 1000 && !c.authenticated)).toBe(true);
    // Each token was sent exactly once, and every one is dead at GitHub.
    const sent = calls.flatMap((c) => c.credentials);
    expect([sent.length, new Set(sent).size]).toEqual([2500, 2500]);
    expect(issued.filter((t) => sim?.isAlive(t))).toEqual([]);
    // Confirmation: one GET /user per confirmable token once GitHub had time; never one for a refresh token.
    const checks = sim.calls({ route: 'user' });
    expect(checks.length).toBe(2000);
    expect(checks.every((c) => c.status === 401 && !c.bearer?.startsWith('ghr_'))).toBe(true);
    const ttl = await stack.client.pttl(`trapi:provider:github:${requests[0]?.fingerprint ?? ''}`);
    expect(ttl).toBeGreaterThan(1500 * 3 + 86_400_000 - 60_000);
    await expectNoTokenLeak();
    console.log(`2,500 tokens: ${calls.length} revoke calls of ${calls.map((c) => c.count).join('/')} tokens, ${checks.length} confirmations, ${ms} ms`);
  });

  it('When the budget allows 3 calls an hour and 3,100 tokens arrive, then 3 calls are made and the other 100 tokens are held, none failed', async () => {
    sim = await startGitHubSimulator();
    // A long gathering window: every batch is sent full, by size, before any timer fires.
    const p = provider(sim, { requestsPerHour: 3, batchWaitMs: 5000 });
    const requests = tokens(sim, 'ghr_', 3100);
    const driven = await drive(p, requests, { parkAfterMs: 60_000 });
    expect(tally(driven)).toEqual({ 'submitted:credentials_revoke:confirmed=false': 3000, 'pending:awaiting_budget:held': 100 });
    expect(revokeCalls().map((c) => [c.status, c.count])).toEqual([[202, 1000], [202, 1000], [202, 1000]]);
    const held = driven.filter((d) => d.last.status === 'pending').map((d) => d.last);
    // Held for about the hour the budget needs to free, never failed.
    expect(held.every((o) => o.status === 'pending' && o.held === true && o.retryAfterMs > 3_000_000)).toBe(true);
    expect(await services(stack.client, logs).budget.usage('github:revoke', 3_600_000)).toEqual({ used: 3, blockedUntil: undefined });
    await expectNoTokenLeak();
  });

  it('When /credentials/revoke and GET /user answer with rate-limit storms, then the provider waits them out and every token ends revoked', async () => {
    sim = await startGitHubSimulator();
    sim.faults.rateLimitStorm('revoke', 1, { status: 429, resetInMs: 1000 });
    sim.faults.rateLimitStorm('user', 30, { status: 403, resetInMs: 1000 });
    const p = provider(sim);
    const requests = tokens(sim, 'ghp_', 100);
    const started = Date.now();
    const driven = await drive(p, requests);
    expect(tally(driven)).toEqual({ 'revoked:credentials_revoke:confirmed=true': 100 });
    const calls = revokeCalls();
    expect(calls.map((c) => [c.status, c.count])).toEqual([[429, 100], [202, 100]]);
    // The block until x-ratelimit-reset was honoured: the retry came after the reset, not at the next backoff.
    expect((calls[1]?.at ?? 0) - (calls[0]?.at ?? 0)).toBeGreaterThanOrEqual(1000);
    expect(sim.calls({ route: 'user', status: 403 })).toHaveLength(30);
    const limited = driven.flatMap((d) => d.outcomes).filter((o) => o.status === 'rate_limited');
    expect(limited.length).toBe(30);
    expect(driven.flatMap((d) => d.outcomes).some((o) => o.status === 'credential_rejected' || o.status === 'permanent')).toBe(false);
    await expectNoTokenLeak();
    console.log(`rate-limit storms waited out in ${Date.now() - started} ms; revoke calls ${calls.map((c) => c.status).join(',')}`);
  });

  it('When installation tokens leak, then each deletes itself with DELETE /installation/token and is confirmed dead; one already dead is already_gone', async () => {
    sim = await startGitHubSimulator({ installationDelayMs: 150 });
    const p = provider(sim);
    // Both formats: `ghs_` (reported as an app token) and the older `v1.` + 40 hex (GithubAppInstallationToken).
    const live = [...tokens(sim, 'ghs_', 20), ...tokens(sim, 'v1.', 5)];
    const dead = tokens(sim, 'ghs_', 1, { alive: false });
    const driven = await drive(p, [...live, ...dead]);
    expect(tally(driven)).toEqual({ 'revoked:installation_token:confirmed=true': 25, 'already_gone:installation_token:confirmed=true': 1 });
    expect(revokeCalls()).toEqual([]);
    expect(sim.calls({ route: 'installation_token' }).map((c) => c.status).sort()).toEqual([...Array<number>(25).fill(204), 401]);
    // The token died 150 ms after its DELETE: the first check saw it alive, a later one refused; it was deleted once.
    const first = driven[0];
    expect(first?.outcomes.map((o) => ('reason' in o ? o.reason : o.status))).toEqual(['awaiting_confirmation', 'revoked']);
    await expectNoTokenLeak();
  });

  it('When a token stays alive after each 202, then it is resubmitted and, after maxSubmissions, fails still_active_after_revoke', async () => {
    sim = await startGitHubSimulator();
    const p = provider(sim, { confirmAfterMs: 200, resubmitAfterMs: 500, maxSubmissions: 3 });
    const [stubborn] = tokens(sim, 'gho_', 1, { survivesRevoke: true });
    const started = Date.now();
    const [d] = await drive(p, [stubborn as RevokeRequest]);
    expect(d?.last).toEqual(expect.objectContaining({ status: 'permanent', reason: 'still_active_after_revoke' }));
    expect(revokeCalls().map((c) => [c.status, c.count])).toEqual([[202, 1], [202, 1], [202, 1]]);
    expect(d?.outcomes.filter((o) => o.status === 'pending' && o.reason === 'resubmitting')).toHaveLength(2);
    expect(sim.isAlive(stubborn?.token ?? '')).toBe(true);
    await expectNoTokenLeak();
    console.log(`still active after 3 submissions: failed after ${Date.now() - started} ms, ${d?.outcomes.length} asks`);
  });

  it('When a token is malformed for its kind, then it fails invalid_format and is never sent, and the well-formed ones still go', async () => {
    sim = await startGitHubSimulator();
    const p = provider(sim);
    const good = tokens(sim, 'ghp_', 2);
    const bad: RevokeRequest[] = [
      { ...requestFor(`ghp_${'A'.repeat(35)}`, 'ghp_') },
      { ...requestFor(`ghs_${'A'.repeat(36)}`, 'ghp_') }, // an installation token sent as a classic PAT
      { ...requestFor(`xyz_${'A'.repeat(36)}`, 'ghr_') },
    ];
    const driven = await drive(p, [...good, ...bad]);
    expect(tally(driven)).toEqual({ 'revoked:credentials_revoke:confirmed=true': 2, 'permanent:invalid_format': 3 });
    expect(revokeCalls().map((c) => [c.status, c.count])).toEqual([[202, 2]]);
  });

  it('When a job comes back on another replica, then that replica confirms it, and a token both replicas gathered is sent once', async () => {
    sim = await startGitHubSimulator();
    const a = provider(sim, { batchWaitMs: 100 });
    const b = provider(sim, { batchWaitMs: 400 });
    const [one, two] = tokens(sim, 'ghp_', 2) as [RevokeRequest, RevokeRequest];
    // `one` joins both batches; A sends first, so B must skip it.
    expect((await a.revoke(one)).status).toBe('pending');
    expect((await b.revoke(one)).status).toBe('pending');
    await sleep(700);
    expect(revokeCalls().map((c) => c.count)).toEqual([1]);
    // `two` is submitted by A; its job then lands on B, which only confirms.
    await a.revoke(two);
    await sleep(200);
    const [d] = await drive(b, [two]);
    expect(d?.last).toEqual({ status: 'revoked', via: 'credentials_revoke', confirmed: true });
    expect(revokeCalls().map((c) => c.count)).toEqual([1, 1]);
    const [d1] = await drive(b, [one]);
    expect(d1?.last).toEqual({ status: 'revoked', via: 'credentials_revoke', confirmed: true });
    await expectNoTokenLeak();
  });

  it('When GHES is configured with GITHUB_TOKEN, then the revoke call carries it; when GHES refuses it, then the breaker opens (credential_rejected) and probe() closes it once fixed', async () => {
    sim = await startGitHubSimulator({ mode: 'ghes' });
    issued.push(sim.adminToken);
    const good = provider(sim, { token: sim.adminToken });
    expect(good.credentials).toEqual(['github:token']);
    const first = await drive(good, tokens(sim, 'ghp_', 5));
    expect(tally(first)).toEqual({ 'revoked:credentials_revoke:confirmed=true': 5 });
    expect(revokeCalls().map((c) => [c.status, c.authenticated])).toEqual([[202, true]]);

    const wrong = sim.createToken('ghp_');
    issued.push(wrong);
    const refused = provider(sim, { token: wrong });
    const requests = tokens(sim, 'github_pat_', 5);
    const held = await drive(refused, requests, { settled: (o) => o.status === 'credential_rejected', deadlineMs: 5000 });
    expect(tally(held)).toEqual({ 'credential_rejected:breaker_open': 5 });
    const breakers = services(stack.client, logs).breakers;
    expect(await breakers.isOpen('github:token')).toBe(true);
    expect(await refused.probe?.('github:token')).toBe(false);
    expect(revokeCalls().slice(1).map((c) => [c.status, c.count])).toEqual([[401, 5], [401, 0]]); // the send, then the probe's empty list

    sim.setAdminToken(wrong); // the admin fixes it: GHES now accepts our token
    expect(await refused.probe?.('github:token')).toBe(true);
    await breakers.close('github:token');
    const done = await drive(refused, requests);
    expect(tally(done)).toEqual({ 'revoked:credentials_revoke:confirmed=true': 5 });
    expect(revokeCalls().map((c) => c.status)).toEqual([202, 401, 401, 422, 202]);
    expect(logs.records().filter((r) => r['level'] === 50).map((r) => r['breaker'] ?? r['msg'])).toContain('github:token');
    await expectNoTokenLeak();
  });

  it('When /credentials/revoke answers 5xx or 422 spammed, then the tokens are kept and sent later; the 422 pauses the budget and logs an error', async () => {
    sim = await startGitHubSimulator();
    sim.faults.failNext('revoke', 2, 502);
    const p = provider(sim);
    const requests = tokens(sim, 'ghu_', 10);
    const driven = await drive(p, requests);
    expect(tally(driven)).toEqual({ 'revoked:credentials_revoke:confirmed=true': 10 });
    expect(revokeCalls().map((c) => c.status)).toEqual([502, 502, 202]);

    sim.faults.spamNext(1);
    const more = tokens(sim, 'ghu_', 3);
    const held = await drive(p, more, { parkAfterMs: 10_000 });
    expect(tally(held)).toEqual({ 'pending:awaiting_budget:held': 3 });
    // Shared with every replica through RedisCallBudget.block (fails while its Lua script names a local `until`, a Lua keyword).
    const usage = await services(stack.client, logs).budget.usage('github:revoke', 3_600_000);
    expect(usage.blockedUntil).toBeGreaterThan(Date.now() + 4 * 60_000);
    const errors = logs.records().filter((r) => r['level'] === 50);
    expect(errors.map((r) => String(r['msg']))).toEqual([expect.stringMatching(/422.*spammed/)]);
    await expectNoTokenLeak();
  });

  it('When the provider closes with a batch still gathering, then it sends it once at once, and later jobs find it submitted', async () => {
    sim = await startGitHubSimulator();
    const p = build(sim, stack.client, logs, { batchWaitMs: 60_000 });
    const requests = tokens(sim, 'ghp_', 4);
    for (const r of requests) expect(await p.revoke(r)).toEqual(expect.objectContaining({ status: 'pending', reason: 'awaiting_batch' }));
    expect(revokeCalls()).toEqual([]);
    const started = Date.now();
    await p.close?.();
    expect(Date.now() - started).toBeLessThan(1000);
    expect(revokeCalls().map((c) => [c.status, c.count])).toEqual([[202, 4]]);
    const next = provider(sim);
    await sleep(300);
    expect(tally(await drive(next, requests))).toEqual({ 'revoked:credentials_revoke:confirmed=true': 4 });
    await expectNoTokenLeak();
  });
});
