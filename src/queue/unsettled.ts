// How late the service is: when the longest-waiting token still to be revoked was accepted. One definition, read by
// `trapi status`, /admin/status and the trapi_oldest_waiting_job_age_seconds gauge alike.
import type { Job, Queue } from 'bullmq';
import type { ChainableCommander, Cluster, Redis } from 'ioredis';
import { KEYS } from '../keys.js';
import { QUEUE_NAME } from './jobs.js';

/** fingerprint -> why it waits (`held:<reason>`, `pending:<reason>`), for tokens waiting on something other than a retry. */
/** Job states in which a token is still to be settled. */
const UNSETTLED_STATES = new Set(['waiting', 'prioritized', 'active', 'delayed', 'waiting-children']);
/** Stale entries dropped per reading, at most: the rest wait for the next one. */
const MAX_DROPS = 100;
/** Delayed jobs read per queue without an index (intake, notifications): they are few and short-lived. */
const DELAYED_SCAN = 100;

/**
 * Revocation jobs wait in three places (the wait list, the delayed set while retrying or held behind a breaker, and a
 * worker), and a delayed job is ordered by when it is due, not by when it was accepted. So the tokens not yet settled
 * are also kept in one sorted set, scored by acceptance: the oldest is its first member, at any backlog size.
 *
 * Written after the jobs exist (fan-out, replay) and removed at settlement; an entry whose job is gone or failed (a
 * settlement whose removal was lost, or a settlement that ran before the fan-out's write) is dropped when read.
 * A failed token is not late but failed: the failed set and its alert count it.
 */
export class UnsettledTokens {
  constructor(private readonly redis: Redis | Cluster) {}

  /** Keeps the first acceptance of a token sent again while it waits. */
  async accepted(fps: readonly string[], acceptedAt: number): Promise<void> {
    if (fps.length === 0) return;
    await this.redis.zadd(KEYS.unsettled, 'NX', ...fps.flatMap((fp) => [acceptedAt, fp]));
  }

  /** A replayed token waits again, from now. */
  async replayed(fp: string, at: number): Promise<void> {
    await this.redis.zadd(KEYS.unsettled, at, fp);
  }

  async settled(fp: string): Promise<void> {
    const multi = this.redis.multi();
    this.queueSettled(multi, fp);
    await multi.exec();
  }

  /** Queues `settled` on `multi`, written in one step with the rest of a settlement (the journal). */
  queueSettled(multi: ChainableCommander, fp: string): void {
    multi.zrem(KEYS.unsettled, fp).hdel(KEYS.unsettledWaiting, fp);
  }

  /** A token waits for a budget, a batch, a confirmation or an endpoint: said by `trapi status` and a gauge. */
  async waiting(fp: string, why: string): Promise<void> {
    await this.redis.hset(KEYS.unsettledWaiting, fp, why);
  }

  /** Queues `waiting` on `multi`. */
  queueWaiting(multi: ChainableCommander, fp: string, why: string): void {
    multi.hset(KEYS.unsettledWaiting, fp, why);
  }

  /** Waiting tokens by why they wait (entries of settled tokens are removed at settlement). */
  async waitingCounts(): Promise<Record<string, number>> {
    const counts: Record<string, number> = {};
    for (const why of await this.redis.hvals(KEYS.unsettledWaiting)) counts[why] = (counts[why] ?? 0) + 1;
    return counts;
  }

  /** When the longest-waiting unsettled token was accepted (ms since epoch), or null when none is waiting. */
  async oldest(revocations: Queue): Promise<number | null> {
    for (let drops = 0; drops <= MAX_DROPS; drops++) {
      const [fp, score] = await this.redis.zrange(KEYS.unsettled, '0', '0', 'WITHSCORES');
      if (fp === undefined || score === undefined) return null;
      if (UNSETTLED_STATES.has(await revocations.getJobState(fp))) return Number(score);
      await this.redis.zrem(KEYS.unsettled, fp);
    }
    return null;
  }
}

/**
 * Seconds since the acceptance of the longest-waiting token of `queue`, or null. Revocations: the unsettled index.
 * Other queues (intake, notifications) hold few jobs for a short time: their first waiting job and first delayed ones.
 */
export async function oldestWaitingSeconds(queue: Queue, unsettled: UnsettledTokens, now = Date.now()): Promise<number | null> {
  let since: number | null;
  if (queue.name === QUEUE_NAME) since = await unsettled.oldest(queue);
  else {
    const [waiting] = await queue.getJobs(['waiting', 'prioritized'], 0, 0, true);
    const delayed = await queue.getJobs(['delayed'], 0, DELAYED_SCAN - 1, true);
    const times = [waiting, ...delayed].filter((j): j is Job => j !== undefined).map((j) => (j.data as { acceptedAt?: number }).acceptedAt ?? j.timestamp);
    since = times.length === 0 ? null : Math.min(...times);
  }
  return since === null ? null : Math.max(0, Math.round((now - since) / 1000));
}
