// Faults the Slack simulator can inject into its next calls: 429 storms, HTTP errors, API errors, drops, slowness.

export type SlackFault =
  | { readonly type: 'rate_limit'; readonly retryAfterSeconds: number }
  /** Any HTTP status and body (a string is sent as text/html, as an upstream proxy would). */
  | { readonly type: 'status'; readonly status: number; readonly body: unknown; readonly headers: Readonly<Record<string, string>> }
  /** HTTP 200 `{"ok":false,"error":<error>}`: how Slack reports its own failures. */
  | { readonly type: 'api_error'; readonly error: string }
  /** The connection is closed before anything is done. */
  | { readonly type: 'drop' }
  /** The call is carried out (the token dies), then the connection is closed: the answer is lost. */
  | { readonly type: 'drop_after' }
  /** Answers normally, `ms` later (and acts even if the caller gave up meanwhile). */
  | { readonly type: 'slow'; readonly ms: number };

export class SlackFaults {
  #queue: { fault: SlackFault; left: number }[] = [];

  /** A 429 storm: the next `times` calls answer 429 with `Retry-After: <seconds>` and `{"ok":false,"error":"ratelimited"}`. */
  rateLimitNext(times: number, retryAfterSeconds = 1): void {
    this.#add(times, { type: 'rate_limit', retryAfterSeconds });
  }

  failNext(times: number, status = 503, body: unknown = `<html><body>${status}</body></html>`, headers: Record<string, string> = {}): void {
    this.#add(times, { type: 'status', status, body, headers });
  }

  errorNext(times: number, error: string): void {
    this.#add(times, { type: 'api_error', error });
  }

  dropNext(times = 1): void {
    this.#add(times, { type: 'drop' });
  }

  dropAfterNext(times = 1): void {
    this.#add(times, { type: 'drop_after' });
  }

  slowNext(times: number, ms: number): void {
    this.#add(times, { type: 'slow', ms });
  }

  /** Consumes one use of the oldest fault. */
  take(): SlackFault | undefined {
    const head = this.#queue[0];
    if (!head) return undefined;
    head.left -= 1;
    if (head.left === 0) this.#queue.shift();
    return head.fault;
  }

  pending(): number {
    return this.#queue.reduce((n, f) => n + f.left, 0);
  }

  clear(): void {
    this.#queue = [];
  }

  #add(times: number, fault: SlackFault): void {
    if (!Number.isInteger(times) || times < 1) throw new Error(`Slack simulator: fault times must be a positive integer, got ${times}`);
    this.#queue.push({ fault, left: times });
  }
}
