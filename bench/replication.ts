// Replication section: the accept figures of the service on one Redis, and on a master with one replica where each
// accepted batch waits for the replica's acknowledgement (WAIT) before its 204, side by side in one run.
import { measure, type AcceptSettings } from './accept.js';
import { stopChild } from './processes.js';
import { startRedis, type BenchRedis } from './redis.js';
import type { Row } from './report.js';
import { startService } from './targets.js';

export interface ReplicationSettings extends AcceptSettings {
  readonly tokensPerRequest: readonly number[];
  readonly rateLimitPerMinute: number;
  readonly serviceLogLevel: string;
}

/** The two Redis setups, by the row label the table shows. */
export const SINGLE = 'single';
export const REPLICATED = 'wait 1 replica';

export interface Comparison {
  readonly tokensPerRequest: number;
  /** tokens/s with WAIT ÷ tokens/s on one Redis. */
  readonly ratio: number;
  readonly p50DeltaMs: number;
  readonly p99DeltaMs: number;
}

/**
 * `single` is the bench's private Redis, with REDIS_MIN_REPLICAS_ACK=0 (what `auto` gives without a replica); the
 * replicated setup is a second private Redis with a replica of its own (`--replicaof`, same machine, same durability),
 * with REDIS_MIN_REPLICAS_ACK=1. Both services run throughout; the runs alternate per size, so both see the same
 * machine load.
 */
export async function runReplication(single: BenchRedis, s: ReplicationSettings): Promise<Row[]> {
  const master = await startRedis();
  const replica = await startRedis(master);
  const onSingle = await startService(single.url, s.rateLimitPerMinute, s.serviceLogLevel, undefined, { REDIS_MIN_REPLICAS_ACK: '0' });
  const onReplicated = await startService(master.url, s.rateLimitPerMinute, s.serviceLogLevel, undefined, { REDIS_MIN_REPLICAS_ACK: '1' });
  const rows: Row[] = [];
  try {
    for (const n of s.tokensPerRequest) {
      rows.push(await measure(s, single, onSingle, n, SINGLE));
      const before = await waitCalls(master);
      const row = await measure(s, master, onReplicated, n, REPLICATED, replica);
      // The proof that the replicated figures include the WAIT: the master counted them.
      process.stdout.write(`      (WAIT commands the master answered in that run: ${(await waitCalls(master)) - before}, for ${row.result.ok2xx} requests answered 204)\n`);
      rows.push(row);
    }
  } finally {
    // Not needed by the sections after this one: stopped so they do not share the CPUs with them.
    await Promise.all([stopChild(onSingle.child), stopChild(onReplicated.child)]);
  }
  return rows;
}

/** WAIT commands the server has answered since it started (INFO commandstats). */
async function waitCalls(redis: BenchRedis): Promise<number> {
  const stats = await redis.client.info('commandstats');
  return Number(/^cmdstat_wait:calls=(\d+)/m.exec(stats)?.[1] ?? 0);
}

export function comparisons(rows: readonly Row[]): Comparison[] {
  return [...new Set(rows.map((r) => r.tokensPerRequest))].flatMap((n) => {
    const one = rows.find((r) => r.tokensPerRequest === n && r.target === SINGLE)?.result;
    const waited = rows.find((r) => r.tokensPerRequest === n && r.target === REPLICATED)?.result;
    return one && waited && one.tokensPerS > 0 ? [{ tokensPerRequest: n, ratio: waited.tokensPerS / one.tokensPerS, p50DeltaMs: waited.p50Ms - one.p50Ms, p99DeltaMs: waited.p99Ms - one.p99Ms }] : [];
  });
}

export function comparisonLines(list: readonly Comparison[]): string {
  const ms = (x: number) => `${x >= 0 ? '+' : ''}${x.toFixed(1)} ms`;
  return list.map((c) => `  ${String(c.tokensPerRequest).padStart(3)} tokens/request: with WAIT ÷ single tokens/s = ${c.ratio.toFixed(2)}×, p50 ${ms(c.p50DeltaMs)}, p99 ${ms(c.p99DeltaMs)}`).join('\n');
}
