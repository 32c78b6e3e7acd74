// The one contract every provider implements, and the shared services a provider is given (never builds itself).
import type { CredentialVault } from '../src/domain/credentials.js';
import type { Outcome } from '../src/domain/outcome.js';
import type { Logger } from '../src/logger.js';
import type { VulnerabilityRef } from '../src/domain/vulnerability.js';

/**
 * One kind of token a provider revokes, and every `type` string GitLab's secret detection produces for it.
 * The domain knows only that a type names a kind of some provider; what a kind needs (strategies, endpoints) stays
 * with its provider.
 */
export interface TokenKindSpec {
  /** Unique within its provider, e.g. `personal_access_token`. */
  readonly kind: string;
  /** Every `type` string GitLab sends for this kind, exactly as sent (lower case). */
  readonly types: readonly string[];
  /** What its tokens look like, in words, for the README and `trapi types` (e.g. "`ghp_` + 36 alphanumerics"). */
  readonly shape: string;
}

export interface RevokeRequest {
  /** The leaked token, decrypted for this call only. Never log it, never put it in an outcome or in shared state. */
  readonly token: string;
  readonly kind: string;
  /** The type string GitLab sent. */
  readonly type: string;
  /** The fingerprint (SHA-256 hex of the token): the only name of the token a provider may store or log. */
  readonly fingerprint: string;
}

/**
 * A provider revokes the kinds of token it lists. It never throws for an answer it received: every answer and
 * every network failure becomes an Outcome, and the queue decides what to do with it. Providers do not retry; the
 * queue owns retries: a provider that must come back later (a batch not yet sent, a revocation not yet confirmed)
 * answers `pending` and is asked again with the same request.
 */
export interface Provider {
  /** Stable name, used in outcomes, logs, metrics and `PROVIDERS`. */
  readonly name: string;
  /** The kinds this provider can revoke with the configuration it was given: what it offers to GitLab. */
  readonly kinds: readonly TokenKindSpec[];
  revoke(request: RevokeRequest): Promise<Outcome>;
  /**
   * Whether the credential behind breaker `breaker` (one this provider opened) works again: true closes it, false
   * keeps it open, undefined means "cannot tell now" (or "not mine"). Called every BREAKER_RECHECK_SECONDS.
   */
  probe?(breaker: string): Promise<boolean | undefined>;
  /** Every credential of ours it uses, by the breaker name it opens when the vendor refuses it (for metrics). */
  readonly credentials?: readonly string[];
  /** Stops timers and flushes in-memory work (e.g. a batch being gathered) at shutdown; must not throw. */
  close?(): Promise<void>;
  /** Checks (and, where opted in, rotates) our credentials at the vendor until the returned function stops it. */
  maintainCredentials?(m: CredentialMaintenance): () => Promise<void>;
  /** Tells the finding's vulnerability what happened to its token (the provider of the caller only); absent: off. */
  readonly feedback?: VulnerabilityFeedback | undefined;
}

/** What one feedback call came to. Never throws: the queue retries `failed` (unless `final`), and skips `unavailable`. */
export type FeedbackResult =
  | { readonly result: 'ok' }
  /** This instance cannot take it (no such mutation, no such vulnerability, no credential): remembered, never retried. */
  | { readonly result: 'unavailable'; readonly reason: string }
  /** `final`: retrying cannot help (the vendor refused the content); otherwise retried with backoff. */
  | { readonly result: 'failed'; readonly reason: string; readonly final?: boolean };

/**
 * Writes back to the vulnerability a finding came from: a note, and optionally resolving it. Its calls are never in the
 * way of a revocation: the queue makes them from a queue of their own. Texts never hold a token (a 12-character
 * fingerprint prefix at most).
 */
export interface VulnerabilityFeedback {
  /** What is done: `note`, or `note` and `resolve` (resolve only for a confirmed revocation). */
  readonly actions: readonly ('note' | 'resolve')[];
  /** Where the notes go, for logs and the note text. */
  readonly instance: string;
  note(vulnerability: VulnerabilityRef, body: string): Promise<FeedbackResult>;
  resolve(vulnerability: VulnerabilityRef, comment: string): Promise<FeedbackResult>;
}

/** Outbound discipline shared by every worker process: a request rate and a concurrency cap per key (an instance). */
export interface OutboundLimiter {
  run<T>(key: string, limits: { readonly perSecond: number; readonly concurrency: number }, call: () => Promise<T>): Promise<T>;
}

/**
 * A budget of calls per window shared by every process (e.g. GitHub's 60 revoke requests per hour): a sliding
 * window, so no window of `windowMs` ever holds more than `limit` calls, and a vendor's "stop until" is honoured by all.
 */
export interface CallBudget {
  /** Takes one call from `key`'s budget, or says how long until one is free (or the block set by `block` ends). */
  take(key: string, limit: number, windowMs: number): Promise<{ readonly ok: true } | { readonly ok: false; readonly retryAfterMs: number }>;
  /** The vendor said to stop until `untilMs` (epoch ms): nobody takes from `key` before then. */
  block(key: string, untilMs: number): Promise<void>;
  /** Calls taken in the last `windowMs` and the block, if any: for status and metrics. */
  usage(key: string, windowMs: number): Promise<{ readonly used: number; readonly blockedUntil: number | undefined }>;
}

/**
 * Small shared state of a provider (e.g. "submitted at", per fingerprint), kept in Redis under the provider's name,
 * with a time to live. Values must never hold a token or any secret: fingerprints, times and counts only.
 */
export interface ProviderState {
  get(key: string): Promise<string | undefined>;
  set(key: string, value: string, ttlMs: number): Promise<void>;
  delete(key: string): Promise<void>;
}

export interface BreakerState {
  readonly reason: string;
  readonly since: string;
}

/**
 * Credential breakers, shared by every process: while a credential is refused, nobody uses it.
 * `open`/`close` resolve true only for the caller that changed the state, so exactly one log line is written per change.
 */
export interface CredentialBreakers {
  isOpen(name: string): Promise<boolean>;
  /** `message` replaces the default log line (a breaker that holds no job says so). */
  open(name: string, reason: string, message?: string): Promise<boolean>;
  close(name: string): Promise<boolean>;
  states(): Promise<Readonly<Record<string, BreakerState>>>;
}

/** What the service gives every provider it builds. A provider builds none of these itself. */
export interface ProviderServices {
  readonly limiter: OutboundLimiter;
  readonly budget: CallBudget;
  /** Already scoped to the provider: keys need no provider prefix. */
  readonly state: ProviderState;
  readonly breakers: CredentialBreakers;
  readonly logger: Logger;
  /** `token-revocation-api/<version>`, for every outbound call. */
  readonly userAgent: string;
}

/**
 * Where an instance's credentials come from. Read at every use: self-rotation replaces a credential while the
 * service runs, and every replica must switch to the successor without a restart.
 */
export interface CredentialSource {
  /** The credential to use now; undefined when none is configured. */
  get(instance: string, credential: 'admin' | 'group'): string | undefined;
  /** Re-reads a rotated credential from the shared store; true when it changed (another replica rotated it). */
  refresh(instance: string, credential: 'admin' | 'group'): Promise<boolean>;
}

/** When our credentials at a vendor are checked and rotated (CREDENTIAL_* and the provider's own call timeout). */
export interface RotationPolicy {
  /** Rotate when the credential expires within this long. */
  readonly rotateBeforeMs: number;
  /** Also rotate when the last rotation (or adoption) is older than this; undefined: by expiry only. */
  readonly periodMs: number | undefined;
  /** Lifetime asked for the successor (`expires_at`). */
  readonly lifetimeDays: number;
  readonly checkMs: number;
  /** How long one rotation may hold the lock: several vendor calls, each bounded by `callTimeoutMs`. */
  readonly lockMs: number;
  readonly callTimeoutMs: number;
}

export type RotationResult = 'rotated' | 'recovered' | 'refused' | 'unknown' | 'lost';

/** What a provider that keeps its own credentials alive (GitLab's self-rotation) is given, in processes that revoke. */
export interface CredentialMaintenance {
  /** The shared store that follows rotations across replicas. */
  readonly vault: CredentialVault;
  /** The credentials in use by this process (refreshed after a rotation). */
  readonly live: CredentialSource;
  readonly policy: RotationPolicy;
  readonly logger: Logger;
  readonly onRotation?: ((credential: string, result: RotationResult) => void) | undefined;
}

/** Credentials exactly as configured: for processes that never rotate (the CLI, the API role) and for tests. */
export function configuredCredentials(instances: readonly { readonly name: string; readonly adminToken: string | undefined; readonly group: { readonly token: string } | undefined }[]): CredentialSource {
  return {
    get: (name, credential) => {
      const i = instances.find((x) => x.name === name);
      return credential === 'admin' ? i?.adminToken : i?.group?.token;
    },
    refresh: () => Promise.resolve(false),
  };
}
