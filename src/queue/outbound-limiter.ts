// Outbound limits per GitLab instance, shared by every worker process through Redis: a request rate and a concurrency cap.
import { randomBytes } from 'node:crypto';
import type { Cluster, Redis } from 'ioredis';
import type { OutboundLimiter } from '../../providers/contract.js';
import { KEYS } from '../keys.js';

/**
 * One atomic step. Drops expired leases and the asker's own (it asks again for a fresh slot when it woke too late for
 * the last one), and refuses while `concurrency` leases are held: {1, 5} (ask again in 5 ms).
 * Otherwise spaces calls `interval` ms apart (GCRA: the rate key holds the theoretical time of the next free slot):
 * reserves the next slot and takes a lease until it has passed, answering {0, ms to wait before calling}; a slot
 * more than `maxWaitMs` away is not reserved: {1, ms to wait before asking again}.
 * Redis's clock is used so that replicas on skewed hosts share one schedule.
 */
const ACQUIRE = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local interval = tonumber(ARGV[1])
local maxWait = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
redis.call('ZREM', KEYS[2], ARGV[5])
if redis.call('ZCARD', KEYS[2]) >= tonumber(ARGV[3]) then return { 1, 5 } end
local slot = tonumber(redis.call('GET', KEYS[1]) or '0')
if slot < now then slot = now end
local wait = slot - now
if wait > maxWait then return { 1, math.ceil(wait - maxWait) } end
redis.call('SET', KEYS[1], tostring(slot + interval), 'PX', math.ceil(wait + interval) + 1000)
redis.call('ZADD', KEYS[2], slot + tonumber(ARGV[4]), ARGV[5])
return { 0, math.ceil(wait) }
`;

/** A slot is reserved at most this far ahead; beyond, the caller asks again later (its job may be taken back meanwhile). */
const MAX_WAIT_MS = 1000;

/**
 * A process whose event loop stalls (a long GC, a loaded host) wakes every sleeper whose slot passed meanwhile at once:
 * that would be a burst. A caller that wakes later than this after its slot gives it up and asks for a fresh one, so
 * calls start within this much of the schedule. Not tighter than 25 ms, so that ordinary timer lateness on a busy host
 * does not throw slots away; after two late wakes in a row the caller keeps its slot, so a host that is late all the
 * time slows the calls down by its lateness instead of starving them.
 */
const lateness = (intervalMs: number): number => Math.max(intervalMs, 25);
const LATE_RETRIES = 2;

interface Acquiring {
  trapiAcquireSlot(rateKey: string, leaseKey: string, intervalMs: string, maxWaitMs: number, concurrency: number, leaseMs: number, holder: string): Promise<[number, number]>;
}

/**
 * Calls to one instance are spaced evenly at `perSecond` (no burst at the start of each second, as a fixed window
 * would allow: GitLab sees a steady rate), and at most `concurrency` are in flight, across all worker processes.
 */
export class RedisOutboundLimiter implements OutboundLimiter {
  constructor(
    private readonly redis: Redis | Cluster,
    /** A lease outlives the longest call, so a crashed holder frees its slot by itself. */
    private readonly leaseMs: number,
  ) {
    if (!('trapiAcquireSlot' in redis)) redis.defineCommand('trapiAcquireSlot', { numberOfKeys: 2, lua: ACQUIRE });
  }

  async run<T>(key: string, limits: { perSecond: number; concurrency: number }, call: () => Promise<T>): Promise<T> {
    const interval = String(1000 / limits.perSecond);
    const leases = KEYS.outboundLeases(key);
    const holder = randomBytes(8).toString('hex');
    for (let late = 0; ; ) {
      const [retry, ms] = await (this.redis as unknown as Acquiring).trapiAcquireSlot(KEYS.outboundNext(key), leases, interval, MAX_WAIT_MS, limits.concurrency, this.leaseMs, holder);
      if (retry === 1) {
        await sleep(ms + Math.random() * 5);
        continue;
      }
      if (ms === 0) break;
      // The slot is `ms` after Redis answered; measured from the answer's arrival, so a slow round trip is not lateness.
      const due = performance.now() + ms;
      await sleep(ms);
      if (performance.now() - due <= lateness(Number(interval)) || ++late > LATE_RETRIES) break;
    }
    try {
      return await call();
    } finally {
      await this.redis.zrem(leases, holder).catch(() => undefined); // the lease expires by itself otherwise
    }
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
