// What can become of one revocation attempt: the vocabulary shared by providers, the worker and the records.

/** Terminal and successful: the leaked token no longer works (or never existed at the host). */
export type Gone = 'revoked' | 'reset' | 'deleted' | 'already_gone' | 'not_found';

export type Outcome =
  /** `confirmed`: the token itself was seen refused after the call (vendors whose revoke answer is no proof, e.g. GitHub's 202). */
  | { readonly status: Gone; readonly via: string; readonly instance?: string; readonly identified?: Identified; readonly confirmed?: boolean }
  /**
   * Terminal, but not proof: the vendor accepted the token for revocation and nothing can confirm it (a GitHub refresh
   * token cannot call the API, so a refusal says nothing). Recorded as "submitted, unconfirmed".
   */
  | { readonly status: 'submitted'; readonly via: string; readonly confirmed: false; readonly instance?: string }
  /**
   * Not done yet, and nothing is wrong: waiting to be sent in a batch, for the vendor's budget, or for a confirmation.
   * Asked again after `retryAfterMs` with the same request, without using an attempt. `held` marks a wait on a budget.
   */
  | { readonly status: 'pending'; readonly reason: string; readonly retryAfterMs: number; readonly summary: string; readonly held?: boolean }
  /** No API can revoke this type: on-call must act (a report-only type). Kept for `trapi resolve`. */
  | { readonly status: 'needs_manual'; readonly reason: string; readonly summary: string; readonly instance?: string | undefined }
  /**
   * Try again later, within the retry horizon: a 5xx, a timeout, a reset connection (with backoff), or nothing able
   * to act for now (after `retryAfterMs`, when the provider knows how long that lasts).
   */
  | { readonly status: 'transient'; readonly reason: string; readonly summary: string; readonly lost?: LostAnswer; readonly retryAfterMs?: number | undefined; readonly instance?: string | undefined }
  /** The host throttled us; wait this long, without using up an attempt. */
  | { readonly status: 'rate_limited'; readonly retryAfterMs: number | undefined; readonly summary: string }
  /** Our own credential was refused (401/403): keep the token waiting, never fail it for this. */
  | { readonly status: 'credential_rejected'; readonly reason: string; readonly summary: string }
  /** Repeating cannot help: lands in the failed set for an operator. */
  | { readonly status: 'permanent'; readonly reason: string; readonly summary: string; readonly instance?: string | undefined };

/**
 * A revoking call whose answer never came (timeout, reset connection): GitLab may have done it. If the next attempt
 * finds the token gone, this is what most likely happened, rather than "already gone" or "not found".
 */
export interface LostAnswer {
  readonly status: 'revoked' | 'reset' | 'deleted';
  readonly via: string;
  readonly instance?: string;
}

/** What the host told us about the token before revoking it. Never the token itself. */
export interface Identified {
  readonly kind?: string;
  readonly id?: number | string;
  readonly ownerId?: number | string;
  readonly name?: string;
}

export const GONE: ReadonlySet<string> = new Set<Gone>(['revoked', 'reset', 'deleted', 'already_gone', 'not_found']);
export const isGone = <T extends { readonly status: string }>(o: T): o is Extract<T, { status: Gone }> => GONE.has(o.status);
