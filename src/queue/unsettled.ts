// How late the service is: when the longest-waiting token still to be revoked was accepted. One definition, read by
// `trapi status`, /admin/status and the trapi_oldest_waiting_job_age_seconds gauge alike.
import type { Job, Queue } from 'bullmq';
import type { ChainableCommander, Cluster, Redis } from 'ioredis';
import { KEYS } from '../keys.js';
import { QUEUE_NAME } from './jobs.js';
import { defineScripts, queueScript, type LuaScript } from './lua.js';

/** Job states in which a token is still to be settled. */
const UNSETTLED_STATES = new Set(['waiting', 'prioritized', 'active', 'delayed', 'waiting-children']);
/** Stale entries dropped per reading, at most: the rest wait for the next one. */
const MAX_DROPS = 100;
/** Delayed jobs read per queue without an index (intake, notifications): they are few and short-lived. */
const DELAYED_SCAN = 100;

/**
 * Why tokens wait (`held:<reason>`, `rate_limited:http_429`, ...) is counted, not listed: the hash `unsettled:waiting`
 * holds `#<why>` -> how many, and each token's record its own `waiting` (to move its count when it changes, or drop it
 * at settlement). A field of its own per token in that hash cost some 150 bytes per waiting token; in the record,
 * some 30. Entries `<fp>` -> why written by 0.1.0 are still counted, and dropped when their token moves or settles.
 * KEYS: the hash, the token's record. ARGV: the fingerprint, and for WAITING why it waits.
 */
const WAITING: LuaScript = {
  name: 'trapiUnsettledWaiting',
  keys: 2,
  lua: `
redis.call('HDEL', KEYS[1], ARGV[1])
if redis.call('EXISTS', KEYS[2]) == 0 then return 0 end
local was = redis.call('HGET', KEYS[2], 'waiting')
if was == ARGV[2] then return 0 end
if was and redis.call('HINCRBY', KEYS[1], '#' .. was, -1) <= 0 then redis.call('HDEL', KEYS[1], '#' .. was) end
redis.call('HINCRBY', KEYS[1], '#' .. ARGV[2], 1)
redis.call('HSET', KEYS[2], 'waiting', ARGV[2])
return 1`,
};
const SETTLED: LuaScript = {
  name: 'trapiUnsettledSettled',
  keys: 2,
  lua: `
redis.call('HDEL', KEYS[1], ARGV[1])
local was = redis.call('HGET', KEYS[2], 'waiting')
if not was then return 0 end
if redis.call('HINCRBY', KEYS[1], '#' .. was, -1) <= 0 then redis.call('HDEL', KEYS[1], '#' .. was) end
redis.call('HDEL', KEYS[2], 'waiting')
return 1`,
};

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
  constructor(private readonly redis: Redis | Cluster) {
    defineScripts(redis, [WAITING, SETTLED]);
  }

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
    multi.zrem(KEYS.unsettled, fp);
    queueScript(multi, SETTLED, [KEYS.unsettledWaiting, KEYS.record(fp)], [fp]);
  }

  /**
   * A token waits for a budget, a batch, a confirmation or an endpoint: said by `trapi status` and a gauge. Written
   * with a change of the token's record (the journal), which keeps the record's expiry.
   */
  async waiting(fp: string, why: string): Promise<void> {
    const multi = this.redis.multi();
    this.queueWaiting(multi, fp, why);
    await multi.exec();
  }

  /** Queues `waiting` on `multi`. */
  queueWaiting(multi: ChainableCommander, fp: string, why: string): void {
    queueScript(multi, WAITING, [KEYS.unsettledWaiting, KEYS.record(fp)], [fp, why]);
  }

  /** Waiting tokens by why they wait (a settled token's count is dropped at settlement). */
  async waitingCounts(): Promise<Record<string, number>> {
    const counts: Record<string, number> = {};
    for (const [field, value] of Object.entries(await this.redis.hgetall(KEYS.unsettledWaiting))) {
      const [why, n] = field.startsWith('#') ? [field.slice(1), Number(value)] : [value, 1];
      if (n > 0) counts[why] = (counts[why] ?? 0) + n;
    }
    return counts;
  }

  /** When the longest-waiting unsettled token was accepted (ms since epoch), or null when none is waiting. */
  async oldest(revocations: Queue): Promise<number | null> {
    for (let drops = 0; drops <= MAX_DROPS; drops++) {
      const [fp, score] = await this.redis.zrange(KEYS.unsettled, '0', '0', 'WITHSCORES');
      if (fp === undefined || score === undefined) return null;
      if (UNSETTLED_STATES.has(await revocations.getJobState(fp))) return Number(score);
      // A job gone without a settlement (removed by hand, failed by BullMQ after too many stalls): its entry, and its
      // count among the waiting, go here, so that neither drifts.
      const multi = this.redis.multi();
      this.queueSettled(multi, fp);
      await multi.exec();
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
