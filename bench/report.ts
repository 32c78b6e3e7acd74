// Formats the bench figures: the results table, the service ÷ bare ratios, and the machine context.
import { arch, cpus, loadavg, platform, totalmem } from 'node:os';
import type { LoadResult } from './load.js';

export interface Row {
  readonly tokensPerRequest: number;
  /** `service` and `bare` in the accept section; the Redis the service stood on in the replication section. */
  readonly target: string;
  readonly result: LoadResult;
  /** Tokens found in Redis after the run (warm-up included) and tokens the target acknowledged with a 2xx. */
  readonly stored: number;
  readonly acknowledged: number;
  /** With a replica: the acknowledged tokens it held right after the run (WAIT before 204: all of them). */
  readonly replicaStored?: number;
}

/** The ratio the service must reach at 10 tokens/request (reported, not asserted). */
export const TARGET_RATIO = 0.5;
export const TARGET_TOKENS_PER_REQUEST = 10;

export const errorCount = (r: LoadResult): number => r.non2xx + r.connErrors;
export const rowFailed = (row: Row): boolean => errorCount(row.result) > 0 || row.stored < row.acknowledged || (row.replicaStored ?? Infinity) < row.acknowledged;

export function machine(redisVersion: string): Record<string, string | number> {
  const cpu = cpus();
  return {
    node: process.version,
    platform: `${platform()} ${arch()}`,
    cpuModel: cpu[0]?.model.trim() ?? 'unknown',
    cpuCount: cpu.length,
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    redisServer: redisVersion,
    // Taken before any load: the bench shares the CPUs with whatever else runs, which lowers every figure.
    loadAvg1mAtStart: Math.round((loadavg()[0] ?? 0) * 100) / 100,
  };
}

/** A warning when other work already kept the CPUs busy, since figures from a shared machine are not comparable. */
export function busyWarning(context: Record<string, string | number>): string {
  const load = Number(context['loadAvg1mAtStart']);
  const count = Number(context['cpuCount']);
  return load > count * 0.25 ? `!! load average was ${load} on ${count} CPUs before the bench started: other work competes with it, figures may be low and noisy.\n` : '';
}

const fmt = (n: number, digits = 0) => n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });

export function table(rows: readonly Row[]): string {
  const header = ['tokens/request', 'target', 'requests/s', 'tokens/s', 'p50 ms', 'p99 ms', 'errors'];
  const body = rows.map((row) => {
    const r = row.result;
    const errors = errorCount(r);
    // Errors are flagged in the table itself, with their kind, so a bad run cannot pass for a fast one.
    const errCell = errors === 0 ? '0' : `${errors} !! (non-2xx ${r.non2xx}, conn ${r.connErrors}, timeouts ${r.timeouts})`;
    const lost =
      (row.stored < row.acknowledged ? ` !! only ${row.stored} of ${row.acknowledged} acknowledged tokens in Redis` : '') +
      (row.replicaStored !== undefined && row.replicaStored < row.acknowledged ? ` !! only ${row.replicaStored} of ${row.acknowledged} on the replica` : '');
    return [String(row.tokensPerRequest), row.target, fmt(r.requestsPerS, 1), fmt(r.tokensPerS), fmt(r.p50Ms, 1), fmt(r.p99Ms, 1), errCell + lost];
  });
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((cells) => (cells[i] ?? '').length)));
  const line = (cells: readonly string[]) => cells.map((c, i) => (i < 2 || i === 6 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join(' | ').trimEnd();
  return [line(header), widths.map((w) => '-'.repeat(w)).join('-|-'), ...body.map(line)].join('\n');
}

export interface Ratio {
  readonly tokensPerRequest: number;
  readonly ratio: number;
}

export function ratios(rows: readonly Row[]): Ratio[] {
  const sizes = [...new Set(rows.map((r) => r.tokensPerRequest))];
  return sizes.flatMap((n) => {
    const service = rows.find((r) => r.tokensPerRequest === n && r.target === 'service');
    const bare = rows.find((r) => r.tokensPerRequest === n && r.target === 'bare');
    return service && bare && bare.result.tokensPerS > 0 ? [{ tokensPerRequest: n, ratio: service.result.tokensPerS / bare.result.tokensPerS }] : [];
  });
}

export function ratioLines(list: readonly Ratio[]): string {
  return list
    .map(({ tokensPerRequest: n, ratio }) => {
      const mark = n === TARGET_TOKENS_PER_REQUEST ? `   target ≥ ${TARGET_RATIO}×: ${ratio >= TARGET_RATIO ? 'MET' : 'NOT MET'}` : '';
      return `  ${String(n).padStart(3)} tokens/request: service ÷ bare tokens/s = ${ratio.toFixed(2)}×${mark}`;
    })
    .join('\n');
}
