// Sections of issue 16: time from the 204 to GitLab's receipt of the revoking call (open loop, single-token requests),
// Redis bytes per waiting token (held behind 429s), the Redis round trips of a token per stage, and the service's peak RSS.
import { readFileSync } from 'node:fs';
import type { Redis } from 'ioredis';
import { INTAKE_QUEUE, KEY_PREFIX, QUEUE_NAME } from '../src/queue/jobs.js';
import { COMPACT_ENCODING } from '../src/runtime/embedded-redis.js';
import { stopChild, type Child } from './processes.js';
import type { BenchRedis } from './redis.js';
import { costTable, recordCosts, type Costs } from './redis-costs.js';
import { startSimulator, type BenchSimulator } from './simulator.js';
import { API_TOKEN, newEncryptionKey, startService, startWorker, type ServiceGitLab } from './targets.js';

const TOKEN_TYPE = 'gitleaks_rule_id_gitlab_personal_access_token';
const ADMIN_ROUTE = '/api/v4/admin/token';
const LOCATION = 'https://gitlab.example.com/g/p/-/raw/abc/f.yml#L1';

/** The issue's targets, printed beside each figure. */
export const PERF_TARGETS = {
  revoke: { 20: { p50: 3, p99: 10 }, 200: { p50: 5, p99: 25 }, 500: { p50: 5, p99: 25 } } as Record<number, { p50: number; p99: number }>,
  bytesPerWaitingToken: 1024,
  peakRssMb: 150,
  /** Section `restart` (bench/restart.ts): the pause in GitLab calls after a Redis restart, beyond the outage itself. */
  restartPauseMs: 2000,
};

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A rate limit far above what a section sends: the figure is the service's own cost, not the configured outbound limit. */
/**
 * WORKER_CONCURRENCY's default (20), and as many GitLab slots (GITLAB_CONCURRENCY's default is 8), as the drain section
 * does: a job holding a worker slot then never polls Redis every 5 ms for a GitLab slot. More slots cost more polling
 * per job (BullMQ's moveToActive). BENCH_PERF_CONCURRENCY sets both.
 */
const concurrency = process.env['BENCH_PERF_CONCURRENCY'] ?? '20';
const WIDE_LIMITS = { GITLAB_RATE_LIMIT_PER_SECOND: '5000', GITLAB_CONCURRENCY: concurrency, WORKER_CONCURRENCY: concurrency };

/** A field of a child's /proc/<pid>/status in MB (Linux: VmHWM is the peak RSS, VmRSS the current one); undefined elsewhere. */
function statusMb(child: Child, field: 'VmHWM' | 'VmRSS'): number | undefined {
  try {
    const kb = new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${child.proc.pid}/status`, 'utf8'))?.[1];
    return kb === undefined ? undefined : Math.round(Number(kb) / 1024);
  } catch {
    return undefined;
  }
}

/** Peak resident set size of a child (Linux: VmHWM), in MB; undefined elsewhere. */
export const peakRssMb = (child: Child): number | undefined => statusMb(child, 'VmHWM');

/** CPU seconds (user + system) a child has used so far (Linux: /proc/<pid>/stat); undefined elsewhere. */
function cpuSeconds(child: Child): number | undefined {
  try {
    // The fields after the command name (which may hold spaces, hence after the last ')'): utime and stime are the 12th and 13th.
    const stat = readFileSync(`/proc/${child.proc.pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // In clock ticks of USER_HZ, 100 on every Linux we run on (getconf CLK_TCK).
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return undefined;
  }
}

/** How long a started service is left alone before its idle RSS is read: start-up garbage collected, first polls done. */
const IDLE_MS = 3000;

/** The roles whose idle RSS the revoke section prints beside the ROLE=all peak (the admin API loads more on first use). */
const IDLE_ROLES: readonly { readonly label: string; readonly env: NodeJS.ProcessEnv }[] = [
  { label: 'ROLE=api', env: { ROLE: 'api' } },
  { label: 'ROLE=api, admin API on', env: { ROLE: 'api', ADMIN_API_TOKENS: 'bench:bench-admin-not-a-secret-0123456789' } },
  { label: 'ROLE=worker', env: { ROLE: 'worker', ...WIDE_LIMITS } },
];

/** VmRSS of a service started in each role and left idle for IDLE_MS, one at a time. */
async function idleRss(redis: BenchRedis, sim: BenchSimulator): Promise<Record<string, number | undefined>> {
  const out: Record<string, number | undefined> = {};
  for (const { label, env } of IDLE_ROLES) {
    const service = await startService(redis.url, 10_000_000, 'warn', gitlab(sim), env);
    try {
      await sleep(IDLE_MS);
      out[label] = statusMb(service.child, 'VmRSS');
    } finally {
      await stopChild(service.child);
    }
  }
  return out;
}

async function post(url: string, tokens: readonly string[]): Promise<number> {
  const res = await fetch(`${url}/v1/revoke_tokens`, { method: 'POST', headers: { authorization: API_TOKEN, 'content-type': 'application/json' }, body: JSON.stringify(tokens.map((token) => ({ type: TOKEN_TYPE, token, location: LOCATION }))) });
  await res.arrayBuffer();
  if (res.status !== 204) throw new Error(`POST /v1/revoke_tokens answered ${res.status}`);
  return Date.now();
}

async function waitForRevoked(sim: BenchSimulator, n: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { counters } = await sim.counters();
    if ((counters[`DELETE ${ADMIN_ROUTE} 204`] ?? 0) >= n) return;
    if (Date.now() > deadline) throw new Error(`only ${counters[`DELETE ${ADMIN_ROUTE} 204`] ?? 0} of ${n} revoked after ${timeoutMs / 1000} s`);
    await sleep(100);
  }
}

function gitlab(sim: BenchSimulator): ServiceGitLab {
  return { url: sim.url, adminToken: sim.adminToken, encryptionKey: newEncryptionKey() };
}

export const percentile = (sorted: readonly number[], p: number): number => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? NaN;

export interface RevokeRun {
  readonly rate: number;
  readonly tokens: number;
  readonly sentPerS: number;
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly max: number;
}

/**
 * Open loop: a request every 1000/rate ms by the clock, whatever the answers, each with one new token. For each token,
 * the simulator's arrival time of its revoking call (DELETE /admin/token) minus the time its 204 was read here.
 */
async function revokeRun(serviceUrl: string, sim: BenchSimulator, rate: number, seconds: number): Promise<RevokeRun> {
  const n = rate * seconds;
  const tokens = await sim.makeTokens('personal_access_token', n);
  const revokedBefore = (await sim.counters()).counters[`DELETE ${ADMIN_ROUTE} 204`] ?? 0;
  const answered = new Map<string, number>();
  const start = Date.now() + 50;
  const inflight: Promise<void>[] = [];
  for (let i = 0; i < n; i++) {
    const due = start + (i * 1000) / rate;
    const wait = due - Date.now();
    if (wait > 1) await sleep(wait);
    const token = tokens[i] ?? '';
    inflight.push(post(serviceUrl, [token]).then((at) => void answered.set(token, at)));
  }
  await Promise.all(inflight);
  const sentPerS = n / ((Date.now() - start) / 1000);
  await waitForRevoked(sim, revokedBefore + n, 120_000);
  const { calls } = await sim.calls(`${ADMIN_ROUTE}`);
  const at = new Map<string, number>();
  for (const c of calls) if (c.method === 'DELETE' && c.status === 204 && c.token !== null) at.set(c.token, c.at);
  const lat = tokens.map((t) => (at.get(t) ?? NaN) - (answered.get(t) ?? NaN)).filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (lat.length !== n) throw new Error(`time-to-revoke: ${lat.length} of ${n} tokens matched a revoking call in the simulator's log`);
  return { rate, tokens: n, sentPerS, p50: percentile(lat, 50), p90: percentile(lat, 90), p99: percentile(lat, 99), max: lat.at(-1) ?? NaN };
}

export interface RevokeResult {
  /** The first tokens a started service revokes (cold code, new connections): reported apart, before the runs. */
  readonly warmup: RevokeRun;
  readonly runs: readonly RevokeRun[];
  readonly peakRssMb: number | undefined;
  /** VmRSS of the ROLE=all service IDLE_MS after it was ready, before the runs. */
  readonly idleRssMb: number | undefined;
  /** The same of a service in each other role (IDLE_ROLES), started alone. */
  readonly idleRssByRole: Readonly<Record<string, number | undefined>>;
  /** CPU time (user + system) of the ROLE=all service over the runs (not the warm-up), per token: what V8 heap flags (more GCs) cost. */
  readonly cpuMsPerToken: number | undefined;
}

/**
 * A service's first revocations run cold (V8 has not compiled the job path, no connection to GitLab is open yet), a
 * state it leaves after a few hundred tokens and never returns to: so the runs measure it warm, after these tokens,
 * whose figures are printed apart.
 */
const WARMUP = { rate: 100, seconds: 2 };

/** One ROLE=all service against the zero-latency simulator; a warm-up, then each rate after the other, from a flushed Redis. */
export async function runTimeToRevoke(redis: BenchRedis, rates: readonly number[], seconds: number): Promise<RevokeResult> {
  await redis.client.flushall();
  const sim = await startSimulator(0, 200_000);
  try {
    const idleRssByRole = await idleRss(redis, sim);
    const service = await startService(redis.url, 10_000_000, 'warn', gitlab(sim), { ROLE: 'all', ...WIDE_LIMITS });
    try {
      await sleep(IDLE_MS); // the worker's credential check and first poll
      const idleRssMb = statusMb(service.child, 'VmRSS');
      const warmup = await revokeRun(service.url, sim, WARMUP.rate, WARMUP.seconds);
      const cpuBefore = cpuSeconds(service.child);
      const runs: RevokeRun[] = [];
      for (const rate of rates) runs.push(await revokeRun(service.url, sim, rate, seconds));
      const cpuAfter = cpuSeconds(service.child);
      const tokens = runs.reduce((n, r) => n + r.tokens, 0);
      const cpuMsPerToken = cpuBefore === undefined || cpuAfter === undefined ? undefined : ((cpuAfter - cpuBefore) * 1000) / tokens;
      return { warmup, runs, peakRssMb: peakRssMb(service.child), idleRssMb, idleRssByRole, cpuMsPerToken };
    } finally {
      await stopChild(service.child);
    }
  } finally {
    await stopChild(sim.child);
  }
}

export function revokeReport(r: RevokeResult): string {
  const w = r.warmup;
  const lines = [
    `Warm-up, not counted: the service's first ${w.tokens} tokens at ${w.rate}/s, from cold: p50 ${w.p50}, p90 ${w.p90}, p99 ${w.p99}, max ${w.max} ms`,
    '| tokens/s (sent) | tokens | p50 ms | p90 ms | p99 ms | max ms | target |',
    '|---|---|---|---|---|---|---|',
  ];
  for (const x of r.runs) {
    const t = PERF_TARGETS.revoke[x.rate];
    lines.push(`| ${x.rate} (${Math.round(x.sentPerS)}) | ${x.tokens} | ${x.p50} | ${x.p90} | ${x.p99} | ${x.max} | ${t ? `p50 ≤ ${t.p50}, p99 ≤ ${t.p99}` : ''} |`);
  }
  lines.push(`Peak RSS of the service (ROLE=all): ${r.peakRssMb ?? '?'} MB (target ≤ ${PERF_TARGETS.peakRssMb} MB); idle before the runs: ${r.idleRssMb ?? '?'} MB`);
  lines.push(`Idle RSS by role (${IDLE_MS / 1000} s after ready): ${Object.entries(r.idleRssByRole).map(([role, mb]) => `${role} ${mb ?? '?'} MB`).join(', ')}`);
  lines.push(`CPU time of the service (ROLE=all, user + system) over the runs: ${r.cpuMsPerToken === undefined ? '?' : r.cpuMsPerToken.toFixed(2)} ms per token`);
  return lines.join('\n');
}

export interface MemoryRun {
  readonly tokens: number;
  readonly bytesPerToken: number;
  /** MEMORY USAGE summed per key pattern (fingerprints as <fp>), divided by the tokens. */
  readonly byKey: Readonly<Record<string, number>>;
  readonly peakRssMb: number | undefined;
}

/** The figures on the embedded Redis's settings (COMPACT_ENCODING), and on Redis's defaults (an external Redis left as is). */
export interface MemoryResult extends MemoryRun {
  readonly settings: Readonly<Record<string, string>>;
  readonly redisDefaults: MemoryRun;
}

const usedMemory = async (client: Redis): Promise<number> => Number(/used_memory:(\d+)/.exec(await client.info('memory'))?.[1] ?? NaN);

async function memoryByKey(client: Redis, tokens: number): Promise<Record<string, number>> {
  const sums: Record<string, number> = {};
  let cursor = '0';
  do {
    const [next, keys] = await client.scan(cursor, 'COUNT', 1000);
    cursor = next;
    const pipe = client.pipeline();
    for (const k of keys) pipe.memory('USAGE', k, 'SAMPLES', '0');
    const sizes = (await pipe.exec()) ?? [];
    keys.forEach((k, i) => {
      const pattern = k.replace(/[0-9a-f]{64}/g, '<fp>').replace(/:\d+$/, ':<n>');
      sums[pattern] = (sums[pattern] ?? 0) + Number(sizes[i]?.[1] ?? 0);
    });
  } while (cursor !== '0');
  return Object.fromEntries(Object.entries(sums).map(([k, v]) => [k, Math.round(v / tokens)] as const).filter(([, v]) => v > 0).sort((a, b) => b[1] - a[1]));
}

/** While developing: one waiting token's keys, their encodings and contents (sealed values only, never a token). */
async function printSample(c: Redis, _token: string): Promise<void> {
  const [, keys] = await c.scan('0', 'MATCH', `${KEY_PREFIX}:${QUEUE_NAME}:????????????????????????????????????????????????????????????????`, 'COUNT', 10_000);
  const job = keys[0];
  if (!job) return;
  const fp = job.slice(-64);
  for (const k of [job, `${KEY_PREFIX}:record:${fp}`, `${KEY_PREFIX}:record:${fp}:events`, `${KEY_PREFIX}:record:${fp}:locations`, `${KEY_PREFIX}:unsettled`, `${KEY_PREFIX}:unsettled:waiting`]) {
    if (k.endsWith(':unsettled') || k.endsWith(':waiting')) {
      process.stdout.write(`  ${k} ${await c.type(k)} ${String(await c.object('ENCODING', k))} ${String(await c.memory('USAGE', k, 'SAMPLES', '0'))} B in all\n`);
      continue;
    }
    const type = await c.type(k);
    const body = type === 'hash' ? await c.hgetall(k) : type === 'list' ? await c.lrange(k, 0, -1) : type === 'zset' ? await c.zrange(k, '0', '-1') : null;
    process.stdout.write(`  ${k.replace(fp, '<fp>')} ${type} ${String(await c.object('ENCODING', k))} ${String(await c.memory('USAGE', k))} B: ${JSON.stringify(body)}\n`);
  }
}

/**
 * `tokens` tokens sent in requests of 100 while GitLab answers every revoking call 429 (Retry-After an hour): once each is
 * held (its job delayed, none waiting or active), Redis's used_memory growth over the tokens. Twice: on Redis's default
 * compact-encoding limits, then on those the embedded Redis sets (what a deployment gets either way).
 */
export async function runWaitingMemory(redis: BenchRedis, tokens: number): Promise<MemoryResult> {
  const names = Object.keys(COMPACT_ENCODING);
  const defaults = await Promise.all(names.map(async (n) => [n, ((await redis.client.config('GET', n)) as string[])[1] ?? ''] as const));
  const redisDefaults = await waitingMemory(redis, tokens);
  try {
    for (const [n, v] of Object.entries(COMPACT_ENCODING)) await redis.client.config('SET', n, v);
    return { ...(await waitingMemory(redis, tokens)), settings: COMPACT_ENCODING, redisDefaults };
  } finally {
    for (const [n, v] of defaults) await redis.client.config('SET', n, v);
  }
}

async function waitingMemory(redis: BenchRedis, tokens: number): Promise<MemoryRun> {
  await redis.client.flushall();
  // An experiment on Redis's own settings, e.g. BENCH_MEMORY_REDIS_CONFIG="hash-max-listpack-value 1024" (the bench's Redis only).
  const config = process.env['BENCH_MEMORY_REDIS_CONFIG']?.trim().split(/\s+/);
  if (config && config.length === 2) await redis.client.config('SET', config[0] ?? '', config[1] ?? '');
  const sim = await startSimulator(0, 1000);
  const service = await startService(redis.url, 10_000_000, 'warn', gitlab(sim), { ROLE: 'all', ...WIDE_LIMITS });
  try {
    const faults = await fetch(`${sim.url}/-/sim/faults`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ untilCleared: true, path: ADMIN_ROUTE, action: { type: 'rate_limit', retryAfter: 3600 } }) });
    if (!faults.ok) throw new Error(`simulator fault: ${faults.status}`);
    const seeded: string[] = [];
    for (let left = tokens; left > 0; left -= 10_000) seeded.push(...(await sim.makeTokens('personal_access_token', Math.min(10_000, left))));
    await sleep(1000);
    const before = await usedMemory(redis.client);
    for (let i = 0; i < seeded.length; i += 100) await post(service.url, seeded.slice(i, i + 100));
    const c = redis.client;
    const deadline = Date.now() + 300_000;
    for (;;) {
      const replies = (await c.multi().llen(`${KEY_PREFIX}:${INTAKE_QUEUE}:wait`).llen(`${KEY_PREFIX}:${QUEUE_NAME}:wait`).llen(`${KEY_PREFIX}:${QUEUE_NAME}:active`).zcard(`${KEY_PREFIX}:${QUEUE_NAME}:delayed`).exec()) ?? [];
      const [iw, rw, ra, rd] = replies.map(([, n]) => Number(n));
      if (iw === 0 && rw === 0 && ra === 0 && rd === tokens) break;
      if (Date.now() > deadline) throw new Error(`memory: not every token held after 300 s (intake ${iw}, waiting ${rw}, active ${ra}, delayed ${rd})`);
      await sleep(500);
    }
    await sleep(1000);
    const after = await usedMemory(c);
    if (process.env['BENCH_MEMORY_SAMPLE']) await printSample(c, seeded[0] ?? '');
    return { tokens, bytesPerToken: Math.round((after - before) / tokens), byKey: await memoryByKey(c, tokens), peakRssMb: peakRssMb(service.child) };
  } finally {
    await Promise.all([stopChild(service.child), stopChild(sim.child)]);
  }
}

export function memoryReport(m: MemoryResult): string {
  const run = (r: MemoryRun, on: string) => [
    `Redis used_memory per waiting token (${r.tokens} held behind 429s), ${on}: ${r.bytesPerToken} B (target ≤ ${PERF_TARGETS.bytesPerWaitingToken} B)`,
    '  MEMORY USAGE per token, by key:',
    ...Object.entries(r.byKey).slice(0, 12).map(([k, v]) => `    ${String(v).padStart(6)} B  ${k}`),
  ];
  const settings = Object.entries(m.settings).map(([k, v]) => `${k} ${v}`).join(', ');
  return [...run(m, `embedded Redis's settings (${settings})`), ...run(m.redisDefaults, "Redis's defaults (an external Redis not set as README says)"), `Peak RSS of the service (ROLE=all) meanwhile: ${m.peakRssMb ?? '?'} MB (target ≤ ${PERF_TARGETS.peakRssMb} MB)`].join('\n');
}

export interface CostsResult {
  readonly tokens: number;
  readonly costs: Costs;
  /** INFO stats deltas of a second run without MONITOR (whose own stream would count as output). */
  readonly netInPerToken: number;
  readonly netOutPerToken: number;
  readonly commandsPerToken: number;
  readonly unknown: Readonly<Record<string, number>>;
  /** Round trips per token by stage and command (e.g. `pick-up: moveToActive trapi:revocations:wait`). */
  readonly detail: Readonly<Record<string, number>>;
  /** What a settled token leaves in Redis: MEMORY USAGE per token by key pattern (no job, no ciphertext, by design). */
  readonly left: Readonly<Record<string, number>>;
}

/** `tokens` single-token requests, one every 20 ms, to a ROLE=api and a ROLE=worker process; counted by stage. */
export async function runCosts(redis: BenchRedis, tokens: number): Promise<CostsResult> {
  await redis.client.flushall();
  await redis.client.client('SETNAME', 'bench');
  const sim = await startSimulator(0, 100_000);
  const gl = gitlab(sim);
  const api = await startService(redis.url, 10_000_000, 'warn', gl);
  const worker = await startWorker(redis.url, 'warn', gl, { ratePerSecond: 5000, gitlabConcurrency: Number(concurrency), workerConcurrency: Number(concurrency) });
  const stats = async () => {
    const info = await redis.client.info('stats');
    const num = (k: string) => Number(new RegExp(`${k}:(\\d+)`).exec(info)?.[1] ?? NaN);
    const calls = [...(await redis.client.info('commandstats')).matchAll(/^cmdstat_[^:]+:calls=(\d+)/gm)].reduce((n, m) => n + Number(m[1]), 0);
    return { in: num('total_net_input_bytes'), out: num('total_net_output_bytes'), calls };
  };
  const send = async (n: number) => {
    const seeded = await sim.makeTokens('personal_access_token', n);
    const revokedBefore = (await sim.counters()).counters[`DELETE ${ADMIN_ROUTE} 204`] ?? 0;
    for (const t of seeded) {
      await post(api.url, [t]);
      await sleep(20);
    }
    await waitForRevoked(sim, revokedBefore + n, 60_000);
    await sleep(500);
  };
  try {
    await sleep(2000); // start-up commands (script loads, credential check) are not a token's
    const s0 = await stats();
    await send(tokens);
    const s1 = await stats();
    const recorder = await recordCosts(redis.url);
    await recorder.take();
    await send(tokens);
    const { costs, unknown, detail: counted } = await recorder.take();
    const left = await memoryByKey(redis.client, 2 * tokens); // both runs' tokens, all settled
    const detail = Object.fromEntries(Object.entries(counted).sort((a, b) => b[1] - a[1]).map(([k, v]) => [k, Math.round((v / tokens) * 100) / 100] as const));
    await recorder.stop();
    return { tokens, costs, netInPerToken: Math.round((s1.in - s0.in) / tokens), netOutPerToken: Math.round((s1.out - s0.out) / tokens), commandsPerToken: (s1.calls - s0.calls) / tokens, unknown, detail, left };
  } finally {
    await Promise.all([stopChild(api.child), stopChild(worker.child), stopChild(sim.child)]);
  }
}

export function costsReport(c: CostsResult): string {
  return [
    `Redis per token (${c.tokens} single-token requests, one every 20 ms; ROLE=api + ROLE=worker; zero-latency simulator):`,
    '(a request of up to DIRECT_MAX_TOKENS tokens is fanned out by the API before its 204: its "fan-out" rows are written there, and "intake" is an intake job, made only for larger requests)',
    costTable([{ name: 'all', tokens: c.tokens, costs: c.costs }]),
    `Left in Redis per settled token (MEMORY USAGE): ${Object.entries(c.left).map(([k, v]) => `${k} ${v} B`).join(', ')}`,
    `Without MONITOR: ${c.commandsPerToken.toFixed(1)} commands, ${c.netInPerToken} bytes in and ${c.netOutPerToken} bytes out of Redis per token (INFO deltas, idle polling included).`,
    ...(process.env['BENCH_COSTS_DETAIL'] ? ['Round trips per token by stage and command:', ...Object.entries(c.detail).map(([k, v]) => `  ${v.toFixed(2).padStart(7)}  ${k}`)] : []),
  ].join('\n');
}
