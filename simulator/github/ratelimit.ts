// GitHub's hourly limit on POST /credentials/revoke (60 per hour), with the x-ratelimit-* headers it sends on every answer.

const HOUR_MS = 3_600_000;

export interface RateLimitHeaders {
  readonly [name: string]: string;
}

export function rateLimitHeaders(limit: number, used: number, resetAtMs: number, resource = 'core'): RateLimitHeaders {
  return {
    'x-ratelimit-limit': String(limit),
    'x-ratelimit-remaining': String(Math.max(0, limit - used)),
    'x-ratelimit-reset': String(Math.ceil(resetAtMs / 1000)),
    'x-ratelimit-used': String(used),
    'x-ratelimit-resource': resource,
  };
}

/** A fixed window starting at its first call, as GitHub's limits are: the reset is an hour after the window opened. */
export class HourlyLimit {
  #windowStart = 0;
  #used = 0;

  constructor(public limit: number) {}

  /** Counts one call; `allowed` false once the window's calls exceed the limit. */
  hit(now = Date.now()): { allowed: boolean; headers: RateLimitHeaders } {
    if (now >= this.#windowStart + HOUR_MS) {
      this.#windowStart = now;
      this.#used = 0;
    }
    const allowed = this.#used < this.limit;
    if (allowed) this.#used += 1;
    return { allowed, headers: rateLimitHeaders(this.limit, this.#used, this.#windowStart + HOUR_MS) };
  }

  reset(): void {
    this.#windowStart = 0;
    this.#used = 0;
  }
}
