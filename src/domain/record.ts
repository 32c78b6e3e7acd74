// What we know about one leaked token, named by its fingerprint and never holding it: the record on-call reads.
import type { Identified } from './outcome.js';
import type { VulnerabilityRef } from './vulnerability.js';

/** Where a token stands. `accepted` and `attempted` are in progress; the rest are final until an operator acts. */
export type TokenState = 'accepted' | 'attempted' | 'revoked' | 'reset' | 'deleted' | 'already_gone' | 'not_found' | 'submitted' | 'failed' | 'needs_manual' | 'resolved';

/** One change of a token's state, or one operator action on it. */
export interface TokenEvent {
  readonly at: string;
  readonly event: 'accepted' | 'attempted' | 'retrying' | 'held' | 'pending' | 'rate_limited' | TokenState | 'replayed';
  /** Who did it: `service` for the service itself, else the operator (CLI user or admin API credential name). */
  readonly actor: string;
  readonly detail?: string;
}

export interface TokenRecord {
  readonly fingerprint: string;
  readonly type: string;
  readonly state: TokenState;
  readonly firstReceivedAt: string;
  readonly lastReceivedAt: string;
  /** How many times GitLab sent it (each batch it was in). */
  readonly received: number;
  /** The most recent locations, newest first (bounded). */
  readonly locations: readonly string[];
  readonly instance?: string;
  readonly strategy?: string;
  readonly identified?: Identified;
  /** Whether the token itself was seen refused after the revoking call (absent where the vendor's answer is the proof). */
  readonly confirmed?: boolean;
  readonly attempts: number;
  /** Machine-readable class of the last failure, e.g. `http_503`, `credential_revoked`, `no_strategy_available`. */
  readonly lastError?: string;
  /** Sanitized summary of the last answer that failed. */
  readonly lastSummary?: string;
  /** Newest first (bounded). */
  readonly events: readonly TokenEvent[];
  /** The vulnerabilities (ids only) whose findings named this token, oldest first (bounded): each gets a note. */
  readonly vulnerabilities?: readonly VulnerabilityRef[];
}

/** Bounds per token, so a token GitLab keeps resending cannot grow its record without limit. */
export const RECORD_LIMITS = { events: 100, locations: 20 } as const;
