// The issue-16 sections of `npm run bench` (time to revoke, bytes per waiting token, Redis cost per token, the pause
// after a Redis restart), run by bench.ts when BENCH_SECTIONS names them (all run by default).
// E.g. BENCH_SECTIONS=revoke,memory,costs npm run bench.
import { loadavg, uptime } from 'node:os';
import type { BenchRedis } from './redis.js';
import { costsReport, memoryReport, revokeReport, runCosts, runTimeToRevoke, runWaitingMemory } from './perf.js';
import { restartFailed, restartReport, runRestart } from './restart.js';

export const PERF_SECTIONS = ['revoke', 'memory', 'costs', 'restart'] as const;

function intEnv(name: string, fallback: number): number {
  const raw = process.env[name];
  const n = raw === undefined || raw === '' ? fallback : Number(raw);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${name} must be a positive integer, got "${raw}"`);
  return n;
}

/** Timings depend on what else the machine runs: each is printed beside the load average. */
const load = (): string => `(uptime: load average ${loadavg().map((x) => x.toFixed(2)).join(', ')}, up ${Math.round(uptime() / 60)} min)`;

/** Runs the named sections in order; a failed one is reported and counted, the others still run. */
export async function runPerf(redis: BenchRedis, sections: readonly string[], write: (s: string) => void): Promise<{ failed: number; results: Record<string, unknown> }> {
  const results: Record<string, unknown> = {};
  let failed = 0;
  const run = async (name: string, title: string, work: () => Promise<string>) => {
    if (!sections.includes(name)) return;
    write(`\n${title} ${load()}\n`);
    try {
      write(`${await work()}\n${load()}\n`);
    } catch (err) {
      failed++;
      results[name] = { error: err instanceof Error ? err.message : String(err) };
      write(`!! ${name} failed: ${(err as Error).message}\n`);
    }
  };
  await run('revoke', 'Time to revoke: open-loop single-token requests, 204 → the simulator receives DELETE /admin/token', async () => {
    const rates = (process.env['BENCH_REVOKE_RATES'] ?? '20,200,500').split(',').map(Number);
    const r = await runTimeToRevoke(redis, rates, intEnv('BENCH_REVOKE_SECONDS', 5));
    results['revoke'] = r;
    return revokeReport(r);
  });
  await run('memory', 'Redis bytes per waiting token', async () => {
    const m = await runWaitingMemory(redis, intEnv('BENCH_MEMORY_TOKENS', 20_000));
    results['memory'] = m;
    return memoryReport(m);
  });
  await run('costs', 'Redis round trips and bytes per token, by stage', async () => {
    const c = await runCosts(redis, intEnv('BENCH_COSTS_TOKENS', 200));
    results['costs'] = c;
    return costsReport(c);
  });
  await run('restart', 'Pause in GitLab calls after a Redis restart: open-loop single-token requests, redis-server SIGKILLed and restarted on its AOF', async () => {
    // Zero latency, and a GitLab that answers in 100 ms: then calls are in flight at the kill, and their leases in the AOF.
    const latencies = (process.env['BENCH_RESTART_LATENCIES'] ?? '0,100').split(',').map(Number);
    const runs = [];
    for (const latencyMs of latencies) runs.push(await runRestart({ rate: intEnv('BENCH_RESTART_RATE', 50), beforeS: 5, downS: intEnv('BENCH_RESTART_DOWN_SECONDS', 3), afterS: intEnv('BENCH_RESTART_AFTER_SECONDS', 15), latencyMs }));
    results['restart'] = runs;
    failed += runs.filter(restartFailed).length;
    return runs.map(restartReport).join('\n');
  });
  return { failed, results };
}
