// GitHub through the whole service: GitLab-shaped batches in, real Redis, the worker's cross-job batches out to the
// GitHub simulator, confirmation with each token, and the shared hourly budget.
import request from 'supertest';
import type { GitHubSimulator, GitHubSimulatorOptions } from '../../simulator/github/index.js';
import type { TokenPrefix } from '../../simulator/github/tokens.js';
import { fingerprint } from '../../src/domain/fingerprint.js';
import { failedReasonOf, outcomeOf } from '../support/queue.js';
import { API_TOKEN, eventually, item, type TestService } from '../support/service.js';
import { startStack, useStack, type RunningStack } from '../support/stack.js';

const TYPE_OF: Record<Exclude<TokenPrefix, 'v1.'>, string> = {
  ghp_: 'gitleaks_rule_id_github_personal_access_token',
  github_pat_: 'gitleaks_rule_id_githubfinegrainedpersonalaccesstoken',
  gho_: 'gitlab_secret_scanner_rule_id_github_oauth_access_token',
  ghu_: 'gitleaks_rule_id_github_app_token',
  ghs_: 'gitleaks_rule_id_github_app_token',
  ghr_: 'gitleaks_rule_id_github_refresh_token',
};
const PREFIXES = Object.keys(TYPE_OF) as (keyof typeof TYPE_OF)[];

const setups: RunningStack[] = [];
// Before the stack's afterAll (hooks run in order): each test's stack stops before the shared GitLab simulator.
afterAll(async () => {
  for (const s of setups.reverse()) await s.stop().catch(() => undefined);
});
/** The GitLab simulator the tests share; each test has its own Redis, GitHub simulator and service. */
const stack = useStack({ redis: false, service: false });

/** Its own Redis, GitHub simulator and service: the budget and the batches are the test's alone. */
async function setUp(env: Record<string, string>, simOptions: GitHubSimulatorOptions = {}): Promise<RunningStack> {
  const s = await startStack({
    gitlab: () => stack.gitlab,
    github: simOptions,
    env: {
      GITHUB_BATCH_WAIT_MS: '1000',
      GITHUB_CONFIRM_AFTER_SECONDS: '0.3',
      GITHUB_RATE_LIMIT_PER_SECOND: '2000',
      GITHUB_CONCURRENCY: '50',
      ADMIN_API_TOKENS: 'oncall:admin-token-0123456789abcdef',
      ...env,
    },
  });
  setups.push(s);
  return s;
}

/** As GitLab sends them: a batch per scanned pipeline, 100 findings each. */
async function submit(svc: TestService, tokens: readonly { token: string; type: string }[]): Promise<void> {
  for (let i = 0; i < tokens.length; i += 100) {
    const res = await request(svc.url).post('/v1/revoke_tokens').set('Authorization', API_TOKEN).send(tokens.slice(i, i + 100).map((t) => item(t.token, t.type)));
    expect(res.status).toBe(204);
  }
}

const mint = (github: GitHubSimulator, prefix: keyof typeof TYPE_OF, n: number) => Array.from({ length: n }, () => ({ token: github.createToken(prefix), type: TYPE_OF[prefix], prefix }));

/** Waits until every token has an outcome: one MGET every 200 ms (a GET per token every 25 ms would load Redis more than the service does). */
async function settled<T extends { token: string }>(s: RunningStack, tokens: readonly T[], timeoutMs: number) {
  const keys = tokens.map((t) => `trapi:outcome:${fingerprint(t.token)}`);
  const deadline = Date.now() + timeoutMs;
  while ((await s.client.mget(keys)).some((v) => v === null)) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${tokens.length} GitHub tokens to settle`);
    await new Promise((r) => setTimeout(r, 200));
  }
  return Promise.all(tokens.map(async (t) => ({ ...t, outcome: await outcomeOf(s.client, t.token) })));
}

describe('GitHub through the service', () => {
  it('when 2,500 tokens of every prefix arrive in GitLab-shaped batches, then all are dead at GitHub with at most ceil(2500/1000)+3 unauthenticated revoke calls of at most 1,000', async () => {
    const s = await setUp({});
    const tokens = PREFIXES.flatMap((p) => mint(s.github, p, p === 'ghs_' ? 250 : 450)); // 5 × 450 batched + 250 installation tokens
    expect(tokens).toHaveLength(2500);
    const started = Date.now();
    await submit(s.service, tokens);
    const done = await settled(s, tokens, 90_000);
    const elapsed = Date.now() - started;
    expect(tokens.filter((t) => s.github.isAlive(t.token))).toEqual([]);
    const calls = s.github.revokeCalls();
    expect(calls.length).toBeLessThanOrEqual(Math.ceil(2500 / 1000) + 3);
    expect(calls.every((c) => !c.authenticated && c.count <= 1000 && c.status === 202)).toBe(true);
    // Confirmed where the kind allows; a refresh token is submitted, never claimed revoked.
    const by = (pred: (p: string) => boolean) => done.filter((t) => pred(t.prefix)).map((t) => `${t.outcome?.status}:${String(t.outcome?.confirmed)}`);
    expect(new Set(by((p) => p !== 'ghr_'))).toEqual(new Set(['revoked:true']));
    expect(new Set(by((p) => p === 'ghr_'))).toEqual(new Set(['submitted:false']));
    expect(s.github.calls({ route: 'user' }).filter((c) => c.bearer?.startsWith('ghr_'))).toEqual([]);
    expect(await s.queue.getFailedCount()).toBe(0);
    // For the session note: calls used and time to the last confirmation.
    console.log(`github e2e: 2500 tokens, ${calls.length} revoke calls (${calls.map((c) => c.count).join('+')}), all settled ${elapsed} ms after the first POST`);
  }, 120_000);

  it('when the budget is 3 requests per hour, then no more than 3 calls are made and every other token is held, none failed', async () => {
    const s = await setUp({ GITHUB_REVOKE_REQUESTS_PER_HOUR: '3', GITHUB_BATCH_WAIT_MS: '100' });
    const waves = Array.from({ length: 5 }, () => mint(s.github, 'ghp_', 5));
    for (const wave of waves) {
      await submit(s.service, wave);
      await new Promise((r) => setTimeout(r, 600)); // each wave its own batch
    }
    const early = waves.slice(0, 3).flat();
    const late = waves.slice(3).flat();
    await settled(s, early, 30_000);
    // The budget is spent: the later waves wait for it, held and visible, never failed.
    await eventually(async () => (await request(s.service.url).get('/admin/status').set('Authorization', 'Bearer admin-token-0123456789abcdef')).body.waiting?.['held:awaiting_budget'] === late.length, 'the later tokens held for the budget', 15_000);
    await new Promise((r) => setTimeout(r, 1500));
    expect(s.github.revokeCalls()).toHaveLength(3);
    for (const t of late) {
      expect(await outcomeOf(s.client, t.token)).toBeUndefined();
      expect(await failedReasonOf(s.queue, t.token)).toBeUndefined();
      expect(s.github.isAlive(t.token)).toBe(true);
    }
    const metrics = await request(s.service.url).get('/metrics');
    expect(metrics.text).toContain(`trapi_tokens_waiting{why="held:awaiting_budget"} ${late.length}`);
  }, 60_000);

  it("when GitHub answers with its rate-limit headers (403 and 429), then it is waited out: every token revoked, no credential breaker", async () => {
    const s = await setUp({});
    s.github.faults.rateLimitStorm('revoke', 1, { status: 403, resetInMs: 1500 });
    s.github.faults.rateLimitStorm('user', 5, { status: 429, retryAfterSeconds: 1 });
    const tokens = [...mint(s.github, 'ghp_', 5), ...mint(s.github, 'gho_', 5)];
    await submit(s.service, tokens);
    const done = await settled(s, tokens, 40_000);
    expect(done.map((t) => t.outcome?.status)).toEqual(tokens.map(() => 'revoked'));
    const statuses = s.github.revokeCalls().map((c) => c.status);
    expect(statuses[0]).toBe(403);
    expect(statuses.slice(1).every((st) => st === 202)).toBe(true);
    expect((await request(s.service.url).get('/-/readiness')).body.status).toBe('ready');
    expect(s.service.logs.records().filter((l) => String(l['msg']).includes('breaker OPEN'))).toEqual([]);
  }, 60_000);
});
