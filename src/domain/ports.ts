// What the HTTP edge needs from the rest of the service, as interfaces, so that it depends on no queue or vendor code.
import type { AcceptedToken } from './revocation.js';

export interface TokenTypes {
  /** Every supported type string, sorted and unique. */
  types(): string[];
  supports(type: string): boolean;
}

export interface Enqueuer {
  /** Resolves once every token is durably queued; rejects with StoreUnavailableError. */
  enqueue(tokens: readonly AcceptedToken[]): Promise<{ readonly queued: number }>;
}

export interface Readiness {
  readonly ready: boolean;
  /** Still ready, but something needs an operator (e.g. a refused credential holding tokens back). */
  readonly degraded?: boolean;
  readonly checks: Readonly<Record<string, string>>;
}
