// GitHub section: 10,000 leaked GitHub tokens through the service (API + one worker) against the GitHub simulator: revoke
// calls used, tokens per call, and the time to the last confirmation, beside a bare client doing the least GitHub needs.
import type { BenchRedis } from './redis.js';
import { stopChild } from './processes.js';
import { startGitHubSimulator, type GitHubSimulator } from '../simulator/github/index.js';
import type { TokenPrefix } from '../simulator/github/tokens.js';
import { fingerprint } from '../src/domain/fingerprint.js';
import { KEY_PREFIX } from '../src/queue/jobs.js';
import { API_TOKEN, newEncryptionKey, startService, startWorker, type ServiceGitLab } from './targets.js';

/** Batchable prefixes in equal shares (installation tokens are revoked one by one: not what this section measures). */
const MIX: ReadonlyArray<[TokenPrefix, string]> = [
  ['ghp_', 'gitleaks_rule_id_github_personal_access_token'],
  ['github_pat_', 'gitleaks_rule_id_githubfinegrainedpersonalaccesstoken'],
  ['gho_', 'gitleaks_rule_id_github_oauth_access_token'],
  ['ghu_', 'gitleaks_rule_id_github_app_token'],
  ['ghr_', 'gitleaks_rule_id_github_refresh_token'],
];
const UNUSED_GITLAB: ServiceGitLab = { url: 'http://127.0.0.1:9', adminToken: 'glpat-bench-not-used-000000' };

export interface GitHubDrainSettings {
  readonly tokens: number;
  readonly tokensPerRequest: number;
  /** GITHUB_BATCH_WAIT_MS, GITHUB_CONFIRM_AFTER_SECONDS (×1000), GITHUB_RATE_LIMIT_PER_SECOND, GITHUB_CONCURRENCY. */
  readonly batchWaitMs: number;
  readonly confirmAfterMs: number;
  readonly perSecond: number;
  readonly concurrency: number;
  readonly workerConcurrency: number;
}

export interface GitHubDrainRun {
  readonly revokeCalls: number;
  readonly tokensPerCall: readonly number[];
  readonly confirmCalls: number;
  /** From the first POST (service) or the first call (bare) to the last revoke call, the last confirmation, and (service) every outcome in Redis. */
  readonly lastRevokeS: number;
  readonly lastConfirmationS: number;
  readonly settledS: number;
  readonly alive: number;
}

export interface GitHubDrainResult {
  readonly settings: GitHubDrainSettings;
  readonly service: GitHubDrainRun;
  readonly bare: GitHubDrainRun;
  readonly problems: readonly string[];
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function mint(sim: GitHubSimulator, n: number): { token: string; type: string }[] {
  return Array.from({ length: n }, (_, i) => {
    const [prefix, type] = MIX[i % MIX.length] ?? MIX[0]!;
    return { token: sim.createToken(prefix), type };
  });
}

function runOf(sim: GitHubSimulator, start: number, settledAt: number, tokens: readonly { token: string }[]): GitHubDrainRun {
  const revokes = sim.revokeCalls();
  const confirms = sim.calls({ route: 'user', status: 401 });
  const last = (xs: readonly { at: number }[]) => xs.reduce((m, c) => Math.max(m, c.at), start);
  return {
    revokeCalls: revokes.length,
    tokensPerCall: revokes.map((c) => c.count),
    confirmCalls: sim.calls({ route: 'user' }).length,
    lastRevokeS: (last(revokes) - start) / 1000,
    lastConfirmationS: (last(confirms) - start) / 1000,
    settledS: (settledAt - start) / 1000,
    alive: tokens.filter((t) => sim.isAlive(t.token)).length,
  };
}

/** The service: POSTs in GitLab-shaped batches to ROLE=api while one ROLE=worker revokes. */
async function serviceRun(redis: BenchRedis, s: GitHubDrainSettings, problems: string[]): Promise<GitHubDrainRun> {
  await redis.client.flushall();
  const sim = await startGitHubSimulator();
  try {
    const tokens = mint(sim, s.tokens);
    const key = newEncryptionKey();
    const env = {
      GITHUB_API_URL: sim.apiUrl,
      GITHUB_BATCH_WAIT_MS: String(s.batchWaitMs),
      GITHUB_CONFIRM_AFTER_SECONDS: String(s.confirmAfterMs / 1000),
      GITHUB_RATE_LIMIT_PER_SECOND: String(s.perSecond),
      GITHUB_CONCURRENCY: String(s.concurrency),
      PROVIDERS: 'github',
    };
    const api = await startService(redis.url, 10_000_000, 'warn', { ...UNUSED_GITLAB, encryptionKey: key }, env);
    const worker = await startWorker(redis.url, 'warn', { ...UNUSED_GITLAB, encryptionKey: key }, { ratePerSecond: 1, gitlabConcurrency: 1, workerConcurrency: s.workerConcurrency }, env);
    await sleep(1000); // the worker's connections are up before the clock starts
    const start = Date.now();
    for (let i = 0; i < tokens.length; i += s.tokensPerRequest) {
      const items = tokens.slice(i, i + s.tokensPerRequest).map((t) => ({ ...t, location: 'https://gitlab.example.com/g/p/-/blob/main/.env#L1' }));
      const res = await fetch(`${api.url}/v1/revoke_tokens`, { method: 'POST', headers: { authorization: API_TOKEN, 'content-type': 'application/json' }, body: JSON.stringify(items) });
      if (res.status !== 204) throw new Error(`github drain: POST answered ${res.status}: ${await res.text()}`);
    }
    const keys = tokens.map((t) => `${KEY_PREFIX}:outcome:${fingerprint(t.token)}`);
    const deadline = Date.now() + 300_000;
    for (;;) {
      const missing = (await Promise.all(chunks(keys, 1000).map((c) => redis.client.mget(c)))).flat().filter((v) => v === null).length;
      if (missing === 0) break;
      if (Date.now() > deadline) {
        problems.push(`${missing} of ${tokens.length} tokens not settled after 300 s`);
        break;
      }
      await sleep(250);
    }
    const run = runOf(sim, start, Date.now(), tokens);
    const failed = await redis.client.zcard(`${KEY_PREFIX}:revocations:failed`);
    if (failed > 0) problems.push(`${failed} GitHub revocation jobs failed`);
    await Promise.all([stopChild(api.child), stopChild(worker.child)]);
    return run;
  } finally {
    await sim.close();
  }
}

/** The least GitHub needs: the tokens in calls of 1,000 back to back, then each confirmed once, `concurrency` at a time. */
async function bareRun(s: GitHubDrainSettings): Promise<GitHubDrainRun> {
  const sim = await startGitHubSimulator();
  try {
    const tokens = mint(sim, s.tokens);
    const start = Date.now();
    for (const c of chunks(tokens, 1000)) {
      await fetch(`${sim.apiUrl}/credentials/revoke`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ credentials: c.map((t) => t.token) }) });
    }
    const confirmable = tokens.filter((t) => !t.token.startsWith('ghr_'));
    let next = 0;
    await Promise.all(
      Array.from({ length: s.concurrency }, async () => {
        while (next < confirmable.length) {
          const t = confirmable[next++];
          if (t) await fetch(`${sim.apiUrl}/user`, { headers: { authorization: `Bearer ${t.token}` } });
        }
      }),
    );
    return runOf(sim, start, Date.now(), tokens);
  } finally {
    await sim.close();
  }
}

function chunks<T>(xs: readonly T[], n: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < xs.length; i += n) out.push(xs.slice(i, i + n));
  return out;
}

export async function runGitHubDrain(redis: BenchRedis, s: GitHubDrainSettings): Promise<GitHubDrainResult> {
  const problems: string[] = [];
  const bare = await bareRun(s);
  const service = await serviceRun(redis, s, problems);
  const ideal = Math.ceil(s.tokens / 1000);
  if (service.alive > 0) problems.push(`${service.alive} tokens still alive at the simulator`);
  if (service.revokeCalls > ideal + 3) problems.push(`${service.revokeCalls} revoke calls, more than ceil(${s.tokens}/1000)+3`);
  if (service.tokensPerCall.some((n) => n > 1000)) problems.push('a revoke call carried more than 1,000 tokens');
  return { settings: s, service, bare, problems };
}

export function gitHubDrainReport(r: GitHubDrainResult): string {
  const s = r.settings;
  const row = (name: string, x: GitHubDrainRun) =>
    `  ${name.padEnd(8)} | ${String(x.revokeCalls).padStart(12)} | ${x.tokensPerCall.join('+').padEnd(40)} | ${String(x.confirmCalls).padStart(10)} | ${x.lastRevokeS.toFixed(2).padStart(11)} | ${x.lastConfirmationS.toFixed(2).padStart(17)} | ${x.settledS.toFixed(2).padStart(9)} | ${x.alive}`;
  return [
    `GitHub drain: ${s.tokens.toLocaleString('en-US')} tokens (ghp_, github_pat_, gho_, ghu_, ghr_ in equal shares) in requests of ${s.tokensPerRequest}, against the GitHub simulator`,
    `  service: ROLE=api + one ROLE=worker, WORKER_CONCURRENCY=${s.workerConcurrency} GITHUB_BATCH_WAIT_MS=${s.batchWaitMs} GITHUB_CONFIRM_AFTER_SECONDS=${s.confirmAfterMs / 1000} GITHUB_RATE_LIMIT_PER_SECOND=${s.perSecond} GITHUB_CONCURRENCY=${s.concurrency}`,
    `  bare: calls of 1,000 back to back, then one GET /user per confirmable token, ${s.concurrency} in flight, no confirmation delay: the least GitHub needs`,
    '',
    `  target   | revoke calls | tokens per call                          | GET /user  | last revoke | last confirmation | all settled | alive`,
    row('service', r.service),
    row('bare', r.bare),
    '',
    `  revoke calls: ${r.service.revokeCalls} (ideal ceil(${s.tokens}/1000) = ${Math.ceil(s.tokens / 1000)}, allowed +3); seconds from the first POST (service) or first call (bare)`,
    ...(r.problems.length > 0 ? [`  !! FAILED: ${r.problems.join('; ')}`] : []),
  ].join('\n');
}

export const gitHubDrainFailed = (r: GitHubDrainResult): boolean => r.problems.length > 0;
