// Issue 16, section `restart`: the pause in GitLab calls after a Redis restart. A private append-only redis-server on a
// fixed port, the zero-latency simulator, a ROLE=all service and a steady open-loop flow of single-token requests;
// redis-server is SIGKILLed and restarted on the same port and data dir a few seconds later.
import { appendFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { freePort } from '../src/runtime/free-port.js';
import { KEYS } from '../src/keys.js';
import { PERF_TARGETS } from './perf.js';
import { onCleanup, spawnChild, stopChild, type Child } from './processes.js';
import { startSimulator, type BenchSimulator } from './simulator.js';
import { API_TOKEN, newEncryptionKey, startService } from './targets.js';

const TOKEN_TYPE = 'gitleaks_rule_id_gitlab_personal_access_token';
const ADMIN_ROUTE = '/api/v4/admin/token';
const LOCATION = 'https://gitlab.example.com/g/p/-/raw/abc/f.yml#L1';

export interface RestartSettings {
  readonly rate: number;
  /** Seconds of flow before the kill, Redis down, and flow after Redis is back. */
  readonly beforeS: number;
  readonly downS: number;
  readonly afterS: number;
  /** The simulator's latency per call: with calls in flight at the kill, their leases are in the AOF. */
  readonly latencyMs: number;
}

export interface RestartResult {
  readonly settings: RestartSettings;
  readonly sent: number;
  readonly answered204: number;
  readonly answeredOther: number;
  /** SIGKILL → redis-server answering PING again. */
  readonly outageMs: number;
  /** Last receipt before the kill → first receipt after Redis is back, minus the outage: the figure of the target. */
  readonly gapBeyondOutageMs: number;
  /** Redis answering again → the simulator's first receipt of a revoking call. */
  readonly firstCallAfterBackMs: number;
  /** Leases found in Redis right after it came back (survivors of the AOF), and how long the longest still had to run. */
  readonly leasesAtRestart: number;
  readonly leaseLeftMs: number;
  /** Of the tokens sent before the kill and answered 204: Redis back → the last one's revoking call (negative: before the kill). */
  readonly lastAcceptedBeforeKillMs: number;
  /** Tokens answered 204 revoked exactly once, not at all, more than once. */
  readonly revokedOnce: number;
  readonly notRevoked: number;
  readonly revokedTwice: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** As src/runtime/embedded-redis.ts runs it (append-only, fsync always: a 204 is on disk), on a port and dir kept across the restart. */
function redisServer(port: number, dir: string): Promise<Child> {
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--appendonly', 'yes', '--appendfsync', 'always', '--save', '', '--maxmemory-policy', 'noeviction'];
  const child = spawnChild('redis-restart', 'redis-server', args);
  return child.waitForLine((l) => (l.includes('Ready to accept connections') ? child : undefined), 20_000);
}

async function post(url: string, token: string): Promise<number> {
  try {
    const res = await fetch(`${url}/v1/revoke_tokens`, { method: 'POST', headers: { authorization: API_TOKEN, 'content-type': 'application/json' }, body: JSON.stringify([{ type: TOKEN_TYPE, token, location: LOCATION }]), signal: AbortSignal.timeout(10_000) });
    await res.arrayBuffer();
    return res.status;
  } catch {
    return 0;
  }
}

async function revokedCount(sim: BenchSimulator): Promise<number> {
  return (await sim.counters()).counters[`DELETE ${ADMIN_ROUTE} 204`] ?? 0;
}

export async function runRestart(s: RestartSettings): Promise<RestartResult> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'trapi-bench-restart-'));
  onCleanup(() => rmSync(dir, { recursive: true, force: true }));
  let redis = await redisServer(port, dir);
  const url = `redis://127.0.0.1:${port}`;
  const probe = new Redis(url, { maxRetriesPerRequest: 1, retryStrategy: () => 50, enableOfflineQueue: false, lazyConnect: true });
  probe.on('error', () => undefined);
  const sim = await startSimulator(s.latencyMs, 200_000);
  // Rate far above the flow, the other limits at their defaults (GITLAB_CONCURRENCY 8, WORKER_CONCURRENCY 20): leases
  // that survive the restart count against the concurrency cap as they would in production.
  const service = await startService(url, 10_000_000, process.env['BENCH_RESTART_LOG'] ?? 'warn', { url: sim.url, adminToken: sim.adminToken, encryptionKey: newEncryptionKey() }, { ROLE: 'all', GITLAB_RATE_LIMIT_PER_SECOND: '1000' });
  // While developing: the service's log lines (BENCH_RESTART_LOG=debug shows the reconnects) copied to a file.
  const logFile = process.env['BENCH_RESTART_LOG_FILE'];
  if (logFile) for (const out of [service.child.proc.stdout, service.child.proc.stderr]) out?.on('data', (chunk: Buffer) => appendFileSync(logFile, chunk));
  try {
    await sleep(1000); // the worker's credential check and first poll
    const n = s.rate * (s.beforeS + s.downS + s.afterS);
    const tokens = await sim.makeTokens('personal_access_token', n);
    const status = new Map<string, number>();
    const sentAt = new Map<string, number>();
    const start = Date.now() + 50;
    const killAt = start + s.beforeS * 1000;
    let killedAt = 0;
    let backAt = 0;
    let leasesAtRestart = 0;
    let leaseLeftMs = 0;
    // The outage, beside the flow: kill, wait, restart on the same port and dir, then poll until Redis answers.
    const outage = (async () => {
      await sleep(killAt - Date.now());
      killedAt = Date.now();
      if (logFile) appendFileSync(logFile, `${JSON.stringify({ bench: 'SIGKILL redis-server', time: killedAt })}\n`);
      redis.proc.kill('SIGKILL');
      await new Promise((r) => redis.proc.once('exit', r));
      await sleep(Math.max(0, killedAt + s.downS * 1000 - Date.now()));
      redis = await redisServer(port, dir);
      await probe.connect().catch(() => undefined);
      for (;;) {
        if ((await probe.ping().catch(() => '')) === 'PONG') break;
        await sleep(5);
      }
      backAt = Date.now();
      if (logFile) appendFileSync(logFile, `${JSON.stringify({ bench: 'redis answers again', time: backAt })}\n`);
      const [leaseKey] = await probe.keys(KEYS.outboundLeases('*'));
      if (leaseKey) {
        const leases = await probe.zrange(leaseKey, '0', '-1', 'WITHSCORES');
        const t = await probe.time();
        const now = Number(t[0]) * 1000 + Math.floor(Number(t[1]) / 1000);
        const expiries = leases.filter((_, i) => i % 2 === 1).map(Number).filter((x) => x > now);
        leasesAtRestart = expiries.length;
        leaseLeftMs = Math.max(0, ...expiries.map((x) => x - now));
      }
    })();
    const inflight: Promise<void>[] = [];
    for (let i = 0; i < n; i++) {
      const wait = start + (i * 1000) / s.rate - Date.now();
      if (wait > 1) await sleep(wait);
      const token = tokens[i] ?? '';
      sentAt.set(token, Date.now());
      inflight.push(post(service.url, token).then((code) => void status.set(token, code)));
    }
    await Promise.all([...inflight, outage]);
    const ok = tokens.filter((t) => status.get(t) === 204);
    // Every 204 revoked (or a timeout: reported below as not revoked).
    const deadline = Date.now() + 60_000;
    while ((await revokedCount(sim)) < ok.length && Date.now() < deadline) await sleep(200);
    await sleep(1000); // a late duplicate would show up here
    const { calls } = await sim.calls(ADMIN_ROUTE);
    const revoking = calls.filter((c) => c.method === 'DELETE' && c.status === 204);
    const times = revoking.map((c) => c.at).sort((a, b) => a - b);
    const lastBefore = times.filter((t) => t < killedAt).at(-1) ?? NaN;
    const firstAfter = times.find((t) => t >= backAt) ?? NaN;
    const per = new Map<string, number>();
    const revokedAt = new Map<string, number>();
    for (const c of revoking) {
      if (c.token === null) continue;
      per.set(c.token, (per.get(c.token) ?? 0) + 1);
      revokedAt.set(c.token, c.at);
    }
    const beforeKill = ok.filter((t) => (sentAt.get(t) ?? Infinity) < killedAt).map((t) => revokedAt.get(t) ?? NaN);
    const outageMs = backAt - killedAt;
    return {
      settings: s,
      sent: n,
      answered204: ok.length,
      answeredOther: n - ok.length,
      outageMs,
      gapBeyondOutageMs: firstAfter - lastBefore - outageMs,
      firstCallAfterBackMs: firstAfter - backAt,
      leasesAtRestart,
      leaseLeftMs,
      lastAcceptedBeforeKillMs: Math.max(...beforeKill) - backAt,
      revokedOnce: ok.filter((t) => per.get(t) === 1).length,
      notRevoked: ok.filter((t) => !per.has(t)).length,
      revokedTwice: [...per.values()].filter((x) => x > 1).length,
    };
  } finally {
    probe.disconnect();
    await Promise.all([stopChild(service.child), stopChild(sim.child)]);
    await stopChild(redis);
  }
}

export function restartFailed(r: RestartResult): boolean {
  return r.notRevoked > 0 || r.revokedTwice > 0 || r.revokedOnce !== r.answered204;
}

export function restartReport(r: RestartResult): string {
  const s = r.settings;
  return [
    `Simulator latency ${s.latencyMs} ms: ${s.rate} tokens/s open loop for ${s.beforeS + s.downS + s.afterS} s (${r.sent} requests: ${r.answered204} answered 204, ${r.answeredOther} not), redis-server SIGKILLed after ${s.beforeS} s, restarted after ${s.downS} s on the same port and AOF`,
    `  Outage (SIGKILL → Redis answering again): ${r.outageMs} ms`,
    `  Pause in revoking calls beyond the outage (last receipt before the kill → first after Redis is back, minus the outage): ${r.gapBeyondOutageMs} ms (target ≤ ${PERF_TARGETS.restartPauseMs} ms)`,
    `    of which Redis back → first revoking call: ${r.firstCallAfterBackMs} ms; leases found in Redis when it came back: ${r.leasesAtRestart} (longest still had ${r.leaseLeftMs} ms to run)`,
    r.lastAcceptedBeforeKillMs > 0
      ? `  Tokens sent before the kill and answered 204: the last revoked ${r.lastAcceptedBeforeKillMs} ms after Redis was back`
      : '  Tokens sent before the kill and answered 204: all revoked before the kill',
    `  Tokens answered 204: ${r.revokedOnce} revoked exactly once, ${r.notRevoked} not revoked, ${r.revokedTwice} revoked more than once${restartFailed(r) ? '  !! FAILED' : ''}`,
  ].join('\n');
}
