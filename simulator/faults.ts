// Fault injection: latency, canned error answers, 429 throttling and dropped connections (before or after the work).

/** What a matching fault does instead of the real answer. */
export type FaultAction =
  | { type: 'status'; status: number; body?: unknown; headers?: Record<string, string> }
  /** withHeaders=false is GitLab's other 429: no headers at all and a plain-text `Retry later`. */
  | { type: 'rate_limit'; retryAfter?: number; withHeaders?: boolean; limit?: number }
  | { type: 'drop' }
  /** The real handler runs (state changes happen), then the answer is lost: GitLab did it, the caller cannot know. */
  | { type: 'drop_after' }
  /**
   * This one call takes `ms` longer; then the real handler runs and answers. A caller that gave up meanwhile (its
   * timeout) never learns that GitLab did it anyway: a request executed after the client's timeout.
   */
  | { type: 'slow'; ms: number };

export const FAULT_TYPES: readonly FaultAction['type'][] = ['status', 'rate_limit', 'drop', 'drop_after', 'slow'];

/** The faults that answer something of their own; the drop kinds and `slow` never reach faultReply. */
export type AnsweringFault = Exclude<FaultAction, { type: 'drop' | 'drop_after' | 'slow' }>;

export interface FaultSpec {
  action: FaultAction;
  /** How many matching calls it answers (default 1); ignored when `untilCleared`. */
  times?: number;
  /** Stays on until `clear()`, e.g. "503 to everything until I say stop". */
  untilCleared?: boolean;
  /** Only calls with this method. */
  method?: string;
  /** Only calls to this exact path, or any path starting with it when it ends with `*`. */
  path?: string;
}

export interface ActiveFault extends FaultSpec {
  id: number;
  /** Calls it has answered so far. */
  hits: number;
}

/** A fault's answer, ready for the server to write. */
export interface FaultReply {
  status: number;
  headers: Record<string, string>;
  /** JSON-encoded unless a string. */
  body: unknown;
}

export class Faults {
  latencyMs = 0;
  private active: ActiveFault[] = [];
  private nextId = 1;

  setLatency(ms: number): void {
    if (!Number.isFinite(ms) || ms < 0) throw new Error(`latency must be a non-negative number of ms, got ${ms}`);
    this.latencyMs = ms;
  }

  /** Adds a fault; the oldest matching fault answers first. Returns an id for `remove`. */
  add(spec: FaultSpec): number {
    const times = spec.times ?? 1;
    if (!spec.untilCleared && (!Number.isInteger(times) || times < 1)) throw new Error(`fault times must be a positive integer, got ${times}`);
    const fault: ActiveFault = { ...spec, times, id: this.nextId++, hits: 0 };
    this.active.push(fault);
    return fault.id;
  }

  failNext(times: number, status: number, opts: Omit<FaultSpec, 'action' | 'times'> & { body?: unknown; headers?: Record<string, string> } = {}): number {
    const { body, headers, ...match } = opts;
    return this.add({ ...match, times, action: { type: 'status', status, ...(body === undefined ? {} : { body }), ...(headers ? { headers } : {}) } });
  }

  failUntilCleared(status: number, opts: Omit<FaultSpec, 'action' | 'times' | 'untilCleared'> & { body?: unknown } = {}): number {
    const { body, ...match } = opts;
    return this.add({ ...match, untilCleared: true, action: { type: 'status', status, ...(body === undefined ? {} : { body }) } });
  }

  rateLimitNext(times: number, opts: { retryAfter?: number; withHeaders?: boolean; method?: string; path?: string } = {}): number {
    const { method, path, ...rl } = opts;
    return this.add({ times, ...(method ? { method } : {}), ...(path ? { path } : {}), action: { type: 'rate_limit', ...rl } });
  }

  dropNext(times: number, match: { method?: string; path?: string } = {}): number {
    return this.add({ ...match, times, action: { type: 'drop' } });
  }

  dropAfterNext(times: number, match: { method?: string; path?: string } = {}): number {
    return this.add({ ...match, times, action: { type: 'drop_after' } });
  }

  slowNext(times: number, ms: number, match: { method?: string; path?: string } = {}): number {
    if (!Number.isFinite(ms) || ms < 0) throw new Error(`slow fault ms must be a non-negative number, got ${ms}`);
    return this.add({ ...match, times, action: { type: 'slow', ms } });
  }

  remove(id: number): boolean {
    const before = this.active.length;
    this.active = this.active.filter((f) => f.id !== id);
    return this.active.length !== before;
  }

  /** Removes every fault (latency stays: it is a setting, not a fault). */
  clear(): void {
    this.active = [];
  }

  list(): ActiveFault[] {
    return this.active.map((f) => ({ ...f }));
  }

  /** Consumes one use of the first fault matching this call. */
  take(method: string, path: string): ActiveFault | undefined {
    const fault = this.active.find((f) => matches(f, method, path));
    if (!fault) return undefined;
    fault.hits += 1;
    if (!fault.untilCleared && fault.hits >= (fault.times ?? 1)) this.remove(fault.id);
    return fault;
  }
}

function matches(f: FaultSpec, method: string, path: string): boolean {
  if (f.method !== undefined && f.method.toUpperCase() !== method) return false;
  if (f.path === undefined) return true;
  return f.path.endsWith('*') ? path.startsWith(f.path.slice(0, -1)) : path === f.path;
}

/** Headered 429s mirror Rack::Attack: text/plain `Retry later\n`. */
export function faultReply(action: AnsweringFault, now = Date.now()): FaultReply {
  if (action.type === 'status') return { status: action.status, headers: action.headers ?? {}, body: action.body ?? defaultBody(action.status) };
  if (action.withHeaders === false) return { status: 429, headers: {}, body: 'Retry later' };
  const retryAfter = action.retryAfter ?? 1;
  const headers = {
    'Retry-After': String(retryAfter),
    'RateLimit-Name': 'throttle_authenticated_api',
    'RateLimit-Limit': String(action.limit ?? 600),
    'RateLimit-Observed': String((action.limit ?? 600) + 1),
    'RateLimit-Remaining': '0',
    'RateLimit-Reset': String(Math.ceil(now / 1000) + retryAfter),
  };
  return { status: 429, headers, body: 'Retry later\n' };
}

function defaultBody(status: number): unknown {
  const text: Record<number, string> = { 500: '500 Internal Server Error', 502: '502 Bad Gateway', 503: '503 Service Unavailable', 504: '504 Gateway Timeout' };
  return { message: text[status] ?? `${status}` };
}
