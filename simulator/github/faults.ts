// Faults the tests inject: 5xx answers, rate-limit storms (403 or 429 with GitHub's headers), "spammed" 422s, dropped connections.

export const ROUTES = ['revoke', 'user', 'installation_token', 'installation_repositories'] as const;
export type Route = (typeof ROUTES)[number];

export type FaultAction =
  | { readonly type: 'status'; readonly status: number }
  /** `retryAfterSeconds` adds a Retry-After header (GitHub's secondary limits); the reset is `resetInMs` from now. */
  | { readonly type: 'rate_limit'; readonly status: 403 | 429; readonly resetInMs?: number; readonly retryAfterSeconds?: number }
  | { readonly type: 'spammed' }
  | { readonly type: 'drop' };

export interface FaultSpec {
  /** Every route when absent. */
  readonly route?: Route;
  readonly times?: number;
  readonly action: FaultAction;
}

interface Active extends FaultSpec {
  left: number;
}

export class Faults {
  #active: Active[] = [];

  add(spec: FaultSpec): void {
    const times = spec.times ?? 1;
    if (!Number.isInteger(times) || times < 1) throw new Error(`GitHub simulator: fault times must be a positive integer, got ${times}`);
    this.#active.push({ ...spec, left: times });
  }

  /** The next `times` calls of `route` answer `status` (default 503). */
  failNext(route: Route, times: number, status = 503): void {
    this.add({ route, times, action: { type: 'status', status } });
  }

  rateLimitStorm(route: Route, times: number, opts: { status?: 403 | 429; resetInMs?: number; retryAfterSeconds?: number } = {}): void {
    this.add({ route, times, action: { type: 'rate_limit', status: opts.status ?? 403, ...(opts.resetInMs === undefined ? {} : { resetInMs: opts.resetInMs }), ...(opts.retryAfterSeconds === undefined ? {} : { retryAfterSeconds: opts.retryAfterSeconds }) } });
  }

  spamNext(times = 1): void {
    this.add({ route: 'revoke', times, action: { type: 'spammed' } });
  }

  dropNext(route: Route, times = 1): void {
    this.add({ route, times, action: { type: 'drop' } });
  }

  /** Consumes one use of the oldest fault matching `route`. */
  take(route: Route): FaultAction | undefined {
    const f = this.#active.find((x) => x.route === undefined || x.route === route);
    if (!f) return undefined;
    f.left -= 1;
    if (f.left === 0) this.#active = this.#active.filter((x) => x !== f);
    return f.action;
  }

  pending(): number {
    return this.#active.reduce((n, f) => n + f.left, 0);
  }

  clear(): void {
    this.#active = [];
  }
}
