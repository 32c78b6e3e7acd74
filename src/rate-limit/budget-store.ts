// Inbound budget counts in Redis, shared by every replica: an express-rate-limit store for the HTTP edge's budgets.
import type { IncrementResponse, Options, Store } from 'express-rate-limit';
import type { Cluster, Redis } from 'ioredis';
import { StoreUnavailableError } from '../errors.js';

/**
 * A fixed window per key: the first hit of a window sets its expiry. Returns the window's total and milliseconds left.
 * Same semantics as rate-limit-redis's script, but adds `by` hits at once, so that hits counted locally arrive in one call.
 */
const INCREMENT_BY = `
local total = redis.call('INCRBY', KEYS[1], ARGV[1])
local ttl = redis.call('PTTL', KEYS[1])
if ttl <= 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  ttl = tonumber(ARGV[2])
end
return { total, ttl }`;

/** A replica answers from its own count only while its view of a window is under this share of the budget, */
const LOCAL_SHARE = 0.5;
/** and while the hits it has answered but Redis has not yet acknowledged stay under this share: the most it can overshoot. */
const UNREPORTED_SHARE = 0.05;
/** Hits answered locally reach Redis within this delay. */
const FLUSH_MS = 100;

interface Window {
  /** The window's total as Redis last reported it (every replica's hits). */
  known: number;
  /** Hits answered here and not yet sent. */
  pending: number;
  /** Hits sent and not yet acknowledged. */
  sending: number;
  resetAt: number;
}

type IncrementBy = (key: string, by: string, windowMs: string) => Promise<[number, number]>;

/**
 * An express-rate-limit store whose count lives in Redis, shared by all replicas. Far from the limit it answers at
 * once from its own view and sends the hits in one call per key every FLUSH_MS. A hit waits for Redis when the window
 * is new to this replica, when its view reaches half the budget, or when 5% of the budget is still unacknowledged.
 * Waiting on every hit, as rate-limit-redis does, took a quarter of the API's CPU per request in the bench.
 *
 * The price: other replicas do not see a replica's unacknowledged hits, so each replica can take up to 5% of the
 * budget beyond the limit. Every hit is sent to Redis within its window. A Redis failure on a hit that must wait is
 * a 503, never a free pass; locally counted hits whose send fails are sent again while their window lasts.
 */
export class SharedBudgetStore implements Store {
  readonly localKeys = false;
  readonly #windows = new Map<string, Window>();
  readonly #redis: Redis | Cluster;
  readonly #incrementBy: IncrementBy;
  #windowMs = 60_000;
  #localUpTo = 0;
  #unreportedUpTo = 0;
  #timer: NodeJS.Timeout | undefined;

  constructor(
    redis: Redis | Cluster,
    readonly prefix: string,
  ) {
    this.#redis = redis;
    // ioredis sends EVALSHA and falls back to EVAL when Redis has lost the script (a restart): no load step to fail.
    const name = 'trapiIncrementBy';
    if (!(name in redis)) redis.defineCommand(name, { numberOfKeys: 1, lua: INCREMENT_BY });
    const command = (redis as unknown as Record<string, IncrementBy>)[name];
    if (!command) throw new Error('ioredis did not define the rate-limit script');
    this.#incrementBy = command.bind(redis);
  }

  init(options: Options): void {
    this.#windowMs = options.windowMs;
    // A limit computed per request (none of ours) would make every hit wait: correct, only slower.
    const limit = typeof options.limit === 'number' ? options.limit : 0;
    this.#localUpTo = Math.floor(limit * LOCAL_SHARE);
    this.#unreportedUpTo = Math.floor(limit * UNREPORTED_SHARE);
  }

  async increment(key: string): Promise<IncrementResponse> {
    const w = this.#windows.get(key);
    if (w && Date.now() < w.resetAt && w.known + w.sending + w.pending + 1 <= this.#localUpTo && w.sending + w.pending + 1 <= this.#unreportedUpTo) {
      w.pending++;
      this.#scheduleFlush();
      return { totalHits: w.known + w.sending + w.pending, resetTime: new Date(w.resetAt) };
    }
    return this.#exact(key, w);
  }

  async decrement(key: string): Promise<void> {
    const w = this.#windows.get(key);
    if (w && w.pending > 0) w.pending--;
    else await this.#incrementBy(this.prefix + key, '-1', String(this.#windowMs)).catch(() => undefined);
  }

  async resetKey(key: string): Promise<void> {
    this.#windows.delete(key);
    await this.#redis.del(this.prefix + key).catch(() => undefined);
  }

  /** Sends the local hits of every window now (tests and shutdown; otherwise the timer does). */
  async flush(): Promise<void> {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const now = Date.now();
    const sends: Promise<void>[] = [];
    for (const [key, w] of this.#windows) {
      if (now >= w.resetAt && w.sending === 0) {
        // The window is over: its unsent hits no longer count against anyone.
        this.#windows.delete(key);
        continue;
      }
      if (w.pending === 0) continue;
      const n = w.pending;
      w.pending = 0;
      w.sending += n;
      sends.push(
        this.#send(key, n).then(
          ([total, ttl]) => {
            w.sending -= n;
            this.#learn(w, total, ttl);
          },
          () => {
            w.sending -= n;
            w.pending += n;
            this.#scheduleFlush();
          },
        ),
      );
    }
    await Promise.all(sends);
  }

  async #exact(key: string, w: Window | undefined): Promise<IncrementResponse> {
    // Hits this replica answered locally go along, so that Redis's total is complete when it matters (unless their
    // window is over: then they no longer count).
    const carried = w && Date.now() < w.resetAt ? w.pending : 0;
    if (w) w.pending = 0;
    let total: number;
    let ttl: number;
    try {
      [total, ttl] = await this.#send(key, carried + 1);
    } catch (err) {
      if (w) w.pending += carried;
      throw new StoreUnavailableError(err);
    }
    const current = this.#windows.get(key);
    const window = current && Date.now() < current.resetAt ? current : { known: 0, pending: 0, sending: 0, resetAt: 0 };
    this.#windows.set(key, window);
    this.#learn(window, total, ttl);
    this.#scheduleFlush(); // also forgets windows that are over, so the map holds only current clients
    // Exact: Redis counted every hit this connection sent before this one, and none sent after.
    return { totalHits: total, resetTime: new Date(window.resetAt) };
  }

  #learn(w: Window, total: number, ttl: number): void {
    const resetAt = Date.now() + ttl;
    // A later end means Redis began a new window (the old key expired): start over from its count. Otherwise replies
    // may arrive out of order, and the highest total is the latest.
    w.known = resetAt > w.resetAt + 1000 ? total : Math.max(w.known, total);
    w.resetAt = resetAt;
  }

  #send(key: string, by: number): Promise<[number, number]> {
    return this.#incrementBy(this.prefix + key, String(by), String(this.#windowMs));
  }

  #scheduleFlush(): void {
    if (this.#timer) return;
    this.#timer = setTimeout(() => void this.flush(), FLUSH_MS);
    this.#timer.unref();
  }
}
