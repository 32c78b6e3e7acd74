// What the Slack simulator was asked and answered, oldest first, for tests to count and inspect.

export interface SlackCall {
  /** 1-based since the last reset. */
  readonly seq: number;
  readonly at: number;
  readonly method: string;
  readonly path: string;
  /** 0 when a fault dropped the connection. */
  readonly status: number;
  /** The token the call carried (the subject: Slack has no credential of ours), if any. */
  readonly token: string | null;
  readonly tokenFrom: 'header' | 'form' | 'query' | null;
  /** `test=true|1`: a dry run. */
  readonly test: boolean;
  /** Slack's `error` code answered, if any. */
  readonly error: string | null;
  /** This call killed the token. */
  readonly revoked: boolean;
  /** The injected fault that answered, or `rate_limit` for the simulator's own limit. */
  readonly fault: string | null;
  readonly userAgent: string | null;
  readonly contentType: string | null;
  /** Names (never values) of the form fields sent. */
  readonly fields: readonly string[];
}

export interface SlackCallFilter {
  readonly path?: string;
  readonly status?: number;
  readonly token?: string;
  readonly fault?: string | null;
}

export class SlackCallLog {
  #calls: SlackCall[] = [];

  record(call: Omit<SlackCall, 'seq'>): void {
    this.#calls.push({ seq: this.#calls.length + 1, ...call });
  }

  list(f: SlackCallFilter = {}): SlackCall[] {
    return this.#calls.filter(
      (c) => (f.path === undefined || c.path === f.path) && (f.status === undefined || c.status === f.status) && (f.token === undefined || c.token === f.token) && (f.fault === undefined || c.fault === f.fault),
    );
  }

  clear(): void {
    this.#calls = [];
  }
}
