// Bounded record of the calls the simulator answered, plus per-route counters that never forget.

export interface CallRecord {
  /** 1-based position among all calls since the last reset, so a test can see what the ring dropped. */
  seq: number;
  method: string;
  path: string;
  /** The route pattern, e.g. `/api/v4/groups/:id/tokens/revoke`, or `unmatched`. */
  route: string;
  /** 0 when the connection was dropped by a fault. */
  status: number;
  /** Epoch ms when the request arrived. */
  at: number;
  durationMs: number;
  /** The token the call acted on (the subject, not the admin credential), if any. */
  token: string | null;
  /** Which injected fault answered, if one did. */
  fault: string | null;
}

export interface CallFilter {
  method?: string;
  path?: string;
  route?: string;
  status?: number;
  token?: string;
  /** Only the last `limit` matches. */
  limit?: number;
}

export const DEFAULT_CALL_LOG_LIMIT = 100_000;

/** A fixed-size ring: a 10,000-token benchmark must not grow memory without bound. */
export class CallLog {
  private ring: (CallRecord | undefined)[];
  private next = 0;
  private seq = 0;
  private counts = new Map<string, number>();

  constructor(readonly limit = DEFAULT_CALL_LOG_LIMIT) {
    if (!Number.isInteger(limit) || limit < 1) throw new Error(`call log limit must be a positive integer, got ${limit}`);
    this.ring = new Array<CallRecord | undefined>(limit);
  }

  record(call: Omit<CallRecord, 'seq'>): void {
    this.seq += 1;
    this.ring[this.next] = { seq: this.seq, ...call };
    this.next = (this.next + 1) % this.limit;
    const key = `${call.method} ${call.route} ${call.status}`;
    this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
  }

  /** Calls still held, oldest first. */
  list(filter: CallFilter = {}): CallRecord[] {
    const out: CallRecord[] = [];
    for (let i = 0; i < this.limit; i++) {
      const c = this.ring[(this.next + i) % this.limit];
      if (c && matches(c, filter)) out.push(c);
    }
    return filter.limit === undefined ? out : out.slice(-filter.limit);
  }

  /** Counts keyed `METHOD route status`, e.g. `DELETE /api/v4/admin/token 204`. */
  counters(): Record<string, number> {
    return Object.fromEntries(this.counts);
  }

  /** Every call recorded since the last reset, including those the ring has dropped. */
  get total(): number {
    return this.seq;
  }

  get held(): number {
    return Math.min(this.seq, this.limit);
  }

  clear(): void {
    this.ring = new Array<CallRecord | undefined>(this.limit);
    this.next = 0;
    this.seq = 0;
    this.counts.clear();
  }
}

function matches(c: CallRecord, f: CallFilter): boolean {
  return (
    (f.method === undefined || c.method === f.method.toUpperCase()) &&
    (f.path === undefined || c.path === f.path) &&
    (f.route === undefined || c.route === f.route) &&
    (f.status === undefined || c.status === f.status) &&
    (f.token === undefined || c.token === f.token)
  );
}
