// Drain section: how fast one worker empties a backlog of N tokens against the GitLab simulator, beside the configured outbound limit.
import { INTAKE_QUEUE, KEY_PREFIX, QUEUE_NAME } from '../src/queue/jobs.js';
import type { CallRecord } from '../simulator/index.js';
import { stopChild } from './processes.js';
import type { BenchRedis } from './redis.js';
import { startSimulator, type BenchSimulator } from './simulator.js';
import { API_TOKEN, newEncryptionKey, startService, startWorker, type ServiceGitLab } from './targets.js';

/** The fraction of the configured limit the drain must reach (reported, not asserted). */
export const DRAIN_TARGET = 0.9;
/** The admin strategy makes two calls per personal access token: POST /admin/token (identify), then DELETE. */
export const CALLS_PER_TOKEN = 2;
/** GitLab's answer to the credential check every worker makes at start; see providers/gitlab/self-token.ts. */
const CREDENTIAL_CHECK_ROUTE = '/api/v4/personal_access_tokens/self';
const ADMIN_ROUTE = '/api/v4/admin/token';
const REVOKING = `DELETE ${ADMIN_ROUTE} 204`;
const TOKEN_TYPE = 'gitleaks_rule_id_gitlab_personal_access_token';
const POLL_MS = 200;
/** No new call at the simulator for this long: the drain is stuck, stop waiting. */
const STALL_MS = 30_000;

export interface DrainSettings {
  readonly tokens: number;
  readonly tokensPerRequest: number;
  readonly latencyMs: number;
  /** GITLAB_RATE_LIMIT_PER_SECOND of the worker: calls/s. */
  readonly limitPerSecond: number;
  readonly gitlabConcurrency: number;
  readonly workerConcurrency: number;
  readonly logLevel: string;
}

export interface WindowStats {
  /** Limiter windows (1 s, aligned on the epoch as the limiter's Redis-clock windows are) entirely inside the drain. */
  readonly fullWindows: number;
  readonly callsMin: number;
  readonly callsMedian: number;
  readonly callsMax: number;
  /** Full windows whose quota was used up, and the median ms into the window at which its last allowed call arrived. */
  readonly exhaustedWindows: number;
  readonly exhaustedAtMedianMs: number | undefined;
  /** Calls per window over the whole drain, first and last (partial) windows included. */
  readonly perWindow: readonly number[];
}

export interface DrainResult {
  readonly settings: DrainSettings;
  readonly requests: number;
  readonly intakeJobsQueued: number;
  /** Seeded tokens found revoked at the simulator. */
  readonly drained: number;
  /** First call GitLab received → last revoking call answered (simulator clock). The headline figure. */
  readonly seconds: number;
  readonly tokensPerS: number;
  /** Every call the simulator answered between those two instants, divided by `seconds`. */
  readonly calls: number;
  readonly callsPerS: number;
  readonly ratio: number;
  /** Worker spawned → first call at GitLab (process start-up, Redis connections, first fan-out). */
  readonly startupS: number;
  /** Worker spawned → last revoking call: the figure with start-up included. */
  readonly fromSpawnS: number;
  readonly callsPerSFromSpawn: number;
  readonly callsByRoute: Readonly<Record<string, number>>;
  /** Seeded tokens revoked with exactly one revoking call at the simulator, and those revoked with another count. */
  readonly exactlyOnce: number;
  readonly notExactlyOnce: number;
  readonly notRevoked: number;
  /** BullMQ state once the simulator saw every token revoked. */
  readonly queue: { readonly failed: number; readonly intakeFailed: number; readonly waiting: number; readonly delayed: number };
  /** Intake jobs fanned out (completed), and when the last one completed, in s after the first call (from BullMQ's event stream). */
  readonly fanOut: { readonly completed: number; readonly doneAfterFirstCallS: number | undefined };
  readonly windows: WindowStats;
  /** Why the run cannot be trusted; empty when it can. */
  readonly problems: readonly string[];
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function defaultDrainConcurrency(limitPerSecond: number, latencyMs: number): number {
  // At `latencyMs` per call, C calls in flight give at most C / latency calls/s; 4× what the limit needs keeps the
  // limit, not the latency plus the per-job overhead (limiter and outcome round trips, BullMQ), the bottleneck.
  return Math.min(1000, Math.max(20, Math.ceil((4 * limitPerSecond * latencyMs) / 1000)));
}

async function postBacklog(url: string, tokens: readonly string[], perRequest: number): Promise<number> {
  let requests = 0;
  for (let i = 0; i < tokens.length; i += perRequest) {
    const items = tokens.slice(i, i + perRequest).map((token) => ({ type: TOKEN_TYPE, token, location: 'https://gitlab.example.com/g/p/-/raw/abc/f.yml#L1' }));
    const res = await fetch(`${url}/v1/revoke_tokens`, { method: 'POST', headers: { authorization: API_TOKEN, 'content-type': 'application/json' }, body: JSON.stringify(items) });
    if (!res.ok) throw new Error(`drain: POST /v1/revoke_tokens answered ${res.status}: ${await res.text()}`);
    requests++;
  }
  return requests;
}

/** Polls the simulator's counters until `tokens` revoking calls succeeded; throws if the worker dies or the drain stalls. */
async function waitForDrain(sim: BenchSimulator, tokens: number, worker: { child: { proc: { exitCode: number | null; signalCode: string | null }; tail(): string } }, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastTotal = -1;
  let lastProgress = Date.now();
  for (;;) {
    const { total, counters } = await sim.counters();
    if ((counters[REVOKING] ?? 0) >= tokens) return;
    if (total !== lastTotal) {
      lastTotal = total;
      lastProgress = Date.now();
    }
    const { proc } = worker.child;
    if (proc.exitCode !== null || proc.signalCode !== null) throw new Error(`drain: the worker exited (code ${proc.exitCode}, signal ${proc.signalCode}):\n${worker.child.tail()}`);
    if (Date.now() - lastProgress > STALL_MS) throw new Error(`drain: no call at GitLab for ${STALL_MS / 1000} s, ${counters[REVOKING] ?? 0} of ${tokens} revoked; worker output:\n${worker.child.tail()}`);
    if (Date.now() > deadline) throw new Error(`drain: not done after ${timeoutMs / 1000} s, ${counters[REVOKING] ?? 0} of ${tokens} revoked`);
    await sleep(POLL_MS);
  }
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length === 0 ? 0 : s.length % 2 ? (s[mid] ?? 0) : ((s[mid - 1] ?? 0) + (s[mid] ?? 0)) / 2;
}

/**
 * Calls per calendar second at the simulator (floor(ms / 1000)). The limiter spaces calls on Redis's clock, which runs on
 * this machine: a steady limiter fills each second evenly, its last call near 1000 ms; a bursty one early.
 */
function windowStats(calls: readonly CallRecord[], limit: number, first: number, end: number): WindowStats {
  const firstW = Math.floor(first / 1000);
  const lastW = Math.floor(end / 1000);
  const perWindow = new Array<number>(lastW - firstW + 1).fill(0);
  const arrivals = new Map<number, number[]>();
  for (const c of calls) {
    const w = Math.floor(c.at / 1000);
    perWindow[w - firstW] = (perWindow[w - firstW] ?? 0) + 1;
    const list = arrivals.get(w) ?? [];
    list.push(c.at % 1000);
    arrivals.set(w, list);
  }
  const full = perWindow.slice(1, -1);
  const exhausted: number[] = [];
  for (let w = firstW + 1; w < lastW; w++) {
    const list = (arrivals.get(w) ?? []).sort((a, b) => a - b);
    if (list.length >= limit) exhausted.push(list[limit - 1] ?? 0);
  }
  return {
    fullWindows: full.length,
    callsMin: full.length ? full.reduce((a, b) => Math.min(a, b)) : 0,
    callsMedian: median(full),
    callsMax: full.length ? full.reduce((a, b) => Math.max(a, b)) : 0,
    exhaustedWindows: exhausted.length,
    exhaustedAtMedianMs: exhausted.length ? median(exhausted) : undefined,
    perWindow,
  };
}

/** BullMQ's event stream of the intake queue: stream ids are Redis-clock ms, so they tell when the fan-out finished. */
async function fanOutTiming(redis: BenchRedis, firstCallAt: number): Promise<DrainResult['fanOut']> {
  const entries = await redis.client.xrange(`${KEY_PREFIX}:${INTAKE_QUEUE}:events`, '-', '+');
  let completed = 0;
  let last: number | undefined;
  for (const [id, fields] of entries) {
    const i = fields.indexOf('event');
    if (i >= 0 && i % 2 === 0 && fields[i + 1] === 'completed') {
      completed++;
      last = Math.max(last ?? 0, Number(id.split('-')[0]));
    }
  }
  return { completed, doneAfterFirstCallS: last === undefined ? undefined : (last - firstCallAt) / 1000 };
}

export async function runDrain(redis: BenchRedis, s: DrainSettings, log: (line: string) => void): Promise<DrainResult> {
  const problems: string[] = [];
  await redis.client.flushall();
  const sim = await startSimulator(s.latencyMs, Math.max(100_000, s.tokens * CALLS_PER_TOKEN * 2));
  try {
    // 1. Seed N active personal access tokens (control API: no call is logged).
    const tokens: string[] = [];
    for (let left = s.tokens; left > 0; left -= 10_000) tokens.push(...(await sim.makeTokens('personal_access_token', Math.min(10_000, left))));

    // 2. Fill the backlog with no worker running, so the drain starts from a full queue and is not limited by intake.
    const gitlab: ServiceGitLab = { url: sim.url, adminToken: sim.adminToken, encryptionKey: newEncryptionKey() };
    const api = await startService(redis.url, 10_000_000, s.logLevel, gitlab);
    const requests = await postBacklog(api.url, tokens, s.tokensPerRequest);
    await stopChild(api.child);
    const intakeJobsQueued = await redis.client.llen(`${KEY_PREFIX}:${INTAKE_QUEUE}:wait`);
    if (intakeJobsQueued !== requests) problems.push(`${intakeJobsQueued} intake jobs waiting after ${requests} accepted requests`);
    const before = (await sim.counters()).total;
    if (before !== 0) problems.push(`the simulator answered ${before} calls before the worker started`);
    log(`  backlog: ${tokens.length} tokens in ${requests} requests (${intakeJobsQueued} intake jobs waiting); starting the worker`);

    // 3. One worker; measured by what GitLab (the simulator) sees.
    const spawnedAt = Date.now();
    const worker = await startWorker(redis.url, s.logLevel, gitlab, { ratePerSecond: s.limitPerSecond, gitlabConcurrency: s.gitlabConcurrency, workerConcurrency: s.workerConcurrency });
    const expectedS = (s.tokens * CALLS_PER_TOKEN) / s.limitPerSecond;
    await waitForDrain(sim, s.tokens, worker, Math.round((expectedS * 3 + 60) * 1000));
    const polledDoneAt = Date.now();

    // 4. What GitLab saw: exact instants from the simulator's call log, not from our polling.
    const log_ = await sim.calls();
    if (log_.held < log_.total) problems.push(`the simulator's call log dropped ${log_.total - log_.held} calls`);
    // The worker's credential check at start (GET .../personal_access_tokens/self) is not revocation work: it is listed
    // with the other calls, but neither starts the timed window nor counts against the calls per token.
    const calls = log_.calls.filter((c) => c.route !== CREDENTIAL_CHECK_ROUTE);
    // Loops, not Math.min(...): a large backlog has more calls than a spread may pass as arguments.
    let first = Infinity;
    let end = -Infinity;
    for (const c of calls) {
      first = Math.min(first, c.at);
      if (c.method === 'DELETE' && c.status === 204) end = Math.max(end, c.at + c.durationMs);
    }
    const inWindow = calls.filter((c) => c.at <= end);
    const callsByRoute: Record<string, number> = {};
    for (const c of log_.calls) callsByRoute[`${c.method} ${c.route} ${c.status}`] = (callsByRoute[`${c.method} ${c.route} ${c.status}`] ?? 0) + 1;

    const seeded = new Set(tokens);
    const revoked = (await sim.revoked()).filter((e) => seeded.has(e.token));
    const drained = revoked.filter((e) => e.outcome === 'revoked').length;
    const exactlyOnce = revoked.filter((e) => e.attempts === 1).length;
    const notExactlyOnce = revoked.length - exactlyOnce;
    const notRevoked = tokens.length - drained;

    const q = `${KEY_PREFIX}:${QUEUE_NAME}`;
    const queue = {
      failed: await redis.client.zcard(`${q}:failed`),
      intakeFailed: await redis.client.zcard(`${KEY_PREFIX}:${INTAKE_QUEUE}:failed`),
      waiting: await redis.client.llen(`${q}:wait`),
      delayed: await redis.client.zcard(`${q}:delayed`),
    };
    const fanOut = await fanOutTiming(redis, first);
    await stopChild(worker.child);

    if (notRevoked > 0) problems.push(`${notRevoked} tokens not revoked at the simulator`);
    if (notExactlyOnce > 0) problems.push(`${notExactlyOnce} tokens with other than exactly one revoking call`);
    if (queue.failed + queue.intakeFailed > 0) problems.push(`${queue.failed} revocation and ${queue.intakeFailed} intake jobs failed`);
    const expectedCalls = s.tokens * CALLS_PER_TOKEN;
    if (inWindow.length !== expectedCalls) problems.push(`${inWindow.length} calls at GitLab, expected ${expectedCalls} (${CALLS_PER_TOKEN} per token)`);

    const seconds = (end - first) / 1000;
    const fromSpawnS = (end - spawnedAt) / 1000;
    const callsPerS = inWindow.length / seconds;
    log(`  drained in ${seconds.toFixed(1)} s from the first call (${((polledDoneAt - spawnedAt) / 1000).toFixed(1)} s from the worker's spawn, as polled)`);
    return {
      settings: s,
      requests,
      intakeJobsQueued,
      drained,
      seconds,
      tokensPerS: drained / seconds,
      calls: inWindow.length,
      callsPerS,
      ratio: callsPerS / s.limitPerSecond,
      startupS: (first - spawnedAt) / 1000,
      fromSpawnS,
      callsPerSFromSpawn: inWindow.length / fromSpawnS,
      callsByRoute,
      exactlyOnce,
      notExactlyOnce,
      notRevoked,
      queue,
      fanOut,
      windows: windowStats(inWindow, s.limitPerSecond, first, end),
      problems,
    };
  } finally {
    await stopChild(sim.child);
  }
}

export const drainFailed = (r: DrainResult): boolean => r.problems.length > 0;
