// Outbound limits per GitLab instance, shared by every worker process through Redis: a request rate and a concurrency cap.
import { randomBytes } from 'node:crypto';
import { ReplyError, type Cluster, type Redis } from 'ioredis';
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

/**
 * A caller that finds Redis unreachable waits this long for the connection to be back (a restart takes seconds) before
 * it fails as a transient error (its job then waits RETRY_BASE_DELAY_MS); no call starts meanwhile, so no limit is
 * exceeded. At most, because the call must start while its job is still locked to this worker, never once the job may
 * have been handed to another (two calls for one token): see outageWaitFor.
 */
const OUTAGE_WAIT_MS = 5000;

/**
 * The outage wait for jobs locked `lockMs` (JOB_LOCK_SECONDS): a third of it, at most OUTAGE_WAIT_MS. BullMQ renews a
 * lock every half of it, so a lock renewed just before Redis went down still has half its time; a third leaves room
 * for the round trips around the wait. With the default 30 s lock: 5 s.
 */
export const outageWaitFor = (lockMs: number): number => Math.min(OUTAGE_WAIT_MS, Math.floor(lockMs / 3));

/** A slot is reserved at most this far ahead; beyond, the caller asks again later (its job may be taken back meanwhile). */
const MAX_WAIT_MS = 1000;

/**
 * A process whose event loop stalls (a long GC, a loaded host) wakes every sleeper whose slot passed meanwhile at once:
 * that would be a burst. A caller that wakes later than this after its slot, less than an interval after another call
 * of this process started on the same instance, gives its slot up (the schedule has moved past it: the slot is not
 * used) and asks for a fresh one. Not tighter than 25 ms, so that ordinary timer lateness on a busy host is no reason;
 * a late caller that starts alone keeps its slot, so a host that is late all the time delays the calls by its
 * lateness and throws no slot away; and the third late wake of one caller keeps its slot whatever, so that it is
 * never starved.
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
  readonly #connection: LimiterConnection;
  /** When this process last started a call, per instance (performance.now()): a late waker bunches with it or not. */
  readonly #lastStart = new Map<string, number>();

  constructor(
    private readonly redis: Redis | Cluster,
    /** A lease outlives the longest call, so a crashed holder frees its slot by itself. */
    private readonly leaseMs: number,
    /** How long a caller waits for an unreachable Redis (outageWaitFor the job lock). */
    private readonly outageWaitMs = OUTAGE_WAIT_MS,
  ) {
    if (!('trapiAcquireSlot' in redis)) redis.defineCommand('trapiAcquireSlot', { numberOfKeys: 2, lua: ACQUIRE });
    this.#connection = connectionOf(redis);
  }

  async run<T>(key: string, limits: { perSecond: number; concurrency: number }, call: () => Promise<T>): Promise<T> {
    const interval = String(1000 / limits.perSecond);
    const leases = KEYS.outboundLeases(key);
    let holder = newHolder();
    // Until when the lease could live in Redis (at most a reserved slot plus the lease): no release is needed after.
    const lease = (ms: number) => ({ leases, holder, until: Date.now() + ms + this.leaseMs });
    const outageEnds = Date.now() + this.outageWaitMs;
    for (let late = 0; ; ) {
      let retry: number;
      let ms: number;
      try {
        [retry, ms] = await (this.redis as unknown as Acquiring).trapiAcquireSlot(KEYS.outboundNext(key), leases, interval, MAX_WAIT_MS, limits.concurrency, this.leaseMs, holder);
      } catch (err) {
        // Redis may have taken the lease and lost only its answer (a closed connection, a command timeout): released
        // once Redis answers again, or it would hold a slot for the whole lease after a restart.
        void this.#connection.release(lease(MAX_WAIT_MS));
        // Redis unreachable (restarting): ask again once the connection is back, rather than fail the attempt into
        // its retry backoff. A new holder: the release just queued must not remove the lease asked for next.
        if (!unreachable(err) || !(await this.#connection.readyBy(outageEnds))) throw err;
        // The socket may be gone before ioredis has noticed (status still 'ready'): not a tight loop meanwhile.
        if (this.redis.status === 'ready') await sleep(20);
        holder = newHolder();
        continue;
      }
      if (retry === 1) {
        await sleep(ms + Math.random() * 5);
        continue;
      }
      if (ms === 0) break;
      // The slot is `ms` after Redis answered; measured from the answer's arrival, so a slow round trip is not lateness.
      const due = performance.now() + ms;
      await sleep(ms);
      const woke = performance.now();
      const alone = woke - (this.#lastStart.get(key) ?? -Infinity) >= Number(interval);
      if (woke - due <= lateness(Number(interval)) || alone || ++late > LATE_RETRIES) break;
    }
    this.#lastStart.set(key, performance.now());
    try {
      return await call();
    } finally {
      // Not waited for: the answer is the caller's as soon as it arrives. The release is sent now, so a next ACQUIRE on
      // this connection (the same token's next call, say) reaches Redis after it; it never rejects (kept and sent
      // again if Redis is down), and until Redis has it the lease only counts one call too many, never one too few.
      void this.#connection.release(lease(0));
    }
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

const newHolder = (): string => randomBytes(8).toString('hex');

/**
 * A failure to reach Redis (no connection, or it closed under the command), not an answer from it nor a command that
 * timed out on a live connection (a Redis that slow is not waited for: the attempt fails, as it always did).
 */
const unreachable = (err: unknown): boolean => err instanceof Error && err.message !== 'Command timed out' && !(err instanceof (ReplyError as ErrorConstructor));

interface Lease {
  readonly leases: string;
  readonly holder: string;
  /** Local time after which the lease has expired in Redis anyway. */
  readonly until: number;
}

/** A failed release is tried again this often while the connection is up (a command timeout, say). */
const RELEASE_RETRY_MS = 250;

/**
 * What the limiters on one connection share: its lease releases, and a wait for it to be ready again. A release that
 * fails (Redis down: the fail-fast connection refuses at once) is kept and sent again as soon as the connection is
 * ready, and every RELEASE_RETRY_MS meanwhile, until it succeeds or the lease has expired by itself. A Redis
 * restarted from its AOF still holds the leases of the calls that ended while it was down: without this they would
 * keep their slots for the whole lease (GitLab timeout + 5 s), and with every slot so held no call would start until
 * they expired. The holder ids are random per call, so a late ZREM removes only the lease it names.
 */
class LimiterConnection {
  readonly #pending = new Map<string, Lease>();
  #timer: NodeJS.Timeout | undefined;
  #flushing = false;
  /** Settles (true when ready, false when closed for good) at the connection's next 'ready' or 'end'. */
  #next!: Promise<boolean>;
  #settle!: (ready: boolean) => void;

  constructor(private readonly redis: Redis | Cluster) {
    this.#arm();
    redis.on('ready', () => {
      this.#arm()(true);
      void this.#flush();
    });
    redis.on('end', () => this.#arm()(false));
  }

  /** A fresh #next for the waits to come; returns the settle of the one it replaces. */
  #arm(): (ready: boolean) => void {
    const previous = this.#settle;
    this.#next = new Promise<boolean>((resolve) => (this.#settle = resolve));
    return previous;
  }

  /** True once the connection is ready again, false at `deadline` (epoch ms) or once it is closed for good. */
  async readyBy(deadline: number): Promise<boolean> {
    if (this.redis.status === 'ready') return true;
    if (this.redis.status === 'end' || Date.now() >= deadline) return false;
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<boolean>((r) => (timer = setTimeout(() => r(false), deadline - Date.now())));
    try {
      return await Promise.race([this.#next, late]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Resolves once released, or once kept for later: never rejects. */
  async release(lease: Lease): Promise<void> {
    await this.redis.zrem(lease.leases, lease.holder).catch(() => this.#keep(lease));
  }

  #keep(lease: Lease): void {
    this.#pending.set(`${lease.leases} ${lease.holder}`, lease);
    this.#timer ??= setInterval(() => void this.#flush(), RELEASE_RETRY_MS).unref();
  }

  async #flush(): Promise<void> {
    if (this.#flushing || this.#pending.size === 0) return;
    this.#flushing = true;
    try {
      const now = Date.now();
      for (const [id, l] of this.#pending) if (l.until <= now) this.#pending.delete(id); // expired in Redis by now
      const sent = [...this.#pending].map(([id, l]) => this.redis.zrem(l.leases, l.holder).then(() => this.#pending.delete(id), () => undefined));
      await Promise.all(sent);
    } finally {
      this.#flushing = false;
      if (this.#pending.size === 0 && this.#timer) {
        clearInterval(this.#timer);
        this.#timer = undefined;
      }
    }
  }
}

/** One per connection, shared by the limiters on it (one per provider and instance): one listener per event. */
const connections = new WeakMap<Redis | Cluster, LimiterConnection>();
function connectionOf(redis: Redis | Cluster): LimiterConnection {
  let c = connections.get(redis);
  if (!c) connections.set(redis, (c = new LimiterConnection(redis)));
  return c;
}
