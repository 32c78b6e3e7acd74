// What the rooms need from each other, as interfaces, so that the HTTP edge depends on no queue or vendor code and the
// queue and the metrics on neither of each other.
import type { TokenRecord } from './record.js';
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

/** What the worker reports to the metrics (src/metrics/index.ts implements it). */
export interface RevocationMetrics {
  /** One revocation attempt at a provider (every instance and strategy it tried) took this long. */
  providerCall(provider: string, seconds: number): void;
}

/** What the scrape-time gauges read from Redis (src/queue/readings.ts implements it). */
export interface QueueReadings {
  /** Jobs per state of one queue, and the age of its longest-waiting unsettled token in seconds (null: none waits). */
  queue(name: string): Promise<{ readonly jobs: Readonly<Record<string, number>>; readonly oldestWaitingSeconds: number | null }>;
  /** Unsettled tokens by why they last waited (as Status.waiting). */
  waiting(): Promise<Readonly<Record<string, number>>>;
  /** Open credential breakers by name. */
  openBreakers(): Promise<readonly string[]>;
  close(): Promise<void>;
}

/** What the credential gauges read of one of our credentials from the shared store (src/credentials/store.ts). */
export interface CredentialReadings {
  read(name: string): Promise<{ readonly expiresAt: string | null | undefined; readonly rotatedAt: string | undefined }>;
}

/** Which generation of a self-rotated credential this process uses (src/credentials/live.ts). */
export interface CredentialGenerations {
  /** 0: the configured value, the store not read yet. */
  generation(name: string): number;
}

export interface Readiness {
  readonly ready: boolean;
  /** Still ready, but something needs an operator (e.g. a refused credential holding tokens back). */
  readonly degraded?: boolean;
  readonly checks: Readonly<Record<string, string>>;
}

/** A token's record, with its job's state when a job still exists (waiting, delayed, active or failed). */
export type TokenView = TokenRecord & { readonly job?: { readonly state: string; readonly failedReason?: string } };

/** Filters of `failed list` (CLI) and `GET /admin/failed`. */
export interface FailedFilter {
  readonly type?: string;
  readonly instance?: string;
  /** Prefix of the failed reason, e.g. `no_strategy_available` or `retry_horizon`. */
  readonly reason?: string;
  /** ISO time or epoch ms: failed at or after. */
  readonly since?: number;
}

export interface FailedToken {
  readonly fingerprint: string;
  readonly type: string;
  readonly reason: string;
  readonly failedAt: string;
  readonly attempts: number;
  readonly instance?: string;
}

export interface Status {
  readonly jobs: Readonly<Record<string, Readonly<Record<string, number>>>>;
  /** Age of the oldest job waiting to run (waiting or delayed), per queue; null when none. */
  readonly oldestWaitingSeconds: Readonly<Record<string, number | null>>;
  readonly breakers: Readonly<Record<string, { readonly reason: string; readonly since: string }>>;
  readonly workers: number;
  readonly paused: boolean;
  /** Unsettled tokens that waited at least once, by why they last waited: `held:<reason>` (a budget, an endpoint, our credential), `pending:<reason>` (a batch, a confirmation), `retrying:<reason>`, `rate_limited:<reason>`. */
  readonly waiting: Readonly<Record<string, number>>;
  /** Report-only tokens on-call must revoke by hand (in the failed set with reason `report_only`), until resolved. */
  readonly needsManual: number;
  /** Our GitLab credentials by `instance:credential`: expiry, rotation and what is wrong with them. */
  readonly credentials: Readonly<Record<string, CredentialStatus>>;
}

export interface CredentialStatus {
  /** `off`, or the self-rotate endpoint: `personal`, `project:<id>`, `group:<id>`. */
  readonly rotation: string;
  /** Rotations since the configured credential was adopted, plus 1 (0: never stored, rotation off). */
  readonly generation: number;
  /** The credential's `expires_at` as GitLab last reported it; `never`, or `unknown` before the first check. */
  readonly expiresAt: string;
  readonly lastRotatedAt: string | null;
  readonly checkedAt: string | null;
  /** A rotation was started and its outcome is not yet known (it is recovered at the next check). */
  readonly rotating: boolean;
  /** Why it cannot be rotated, is refused, or was lost: what on-call must fix. */
  readonly problem?: { readonly reason: string; readonly summary: string; readonly at: string };
}

export interface AuditEntry {
  readonly id: string;
  readonly at: string;
  readonly actor: string;
  readonly action: string;
  readonly fingerprint?: string;
  readonly detail?: string;
}

/**
 * What on-call can do, for the CLI and the admin HTTP API alike. Fingerprints may be given as a unique prefix
 * (at least 8 hex characters). Every mutating operation is audited with its actor.
 */
export interface Operations {
  status(): Promise<Status>;
  failed(filter: FailedFilter): Promise<FailedToken[]>;
  show(fingerprintOrPrefix: string): Promise<TokenView | undefined>;
  /**
   * Requeues failed tokens with fresh attempts and horizon; returns the fingerprints queued. `progress` is called
   * after each selected token is handled (queued, or skipped because it left the failed set meanwhile).
   */
  replay(selection: ReplaySelection, actor: string, progress?: Progress): Promise<string[]>;
  /**
   * Starts a replay in the background and answers at once with its handle, which `replayRun` reads from Redis
   * (from any replica) while it runs and for a day after.
   */
  startReplay(selection: ReplaySelection, actor: string): Promise<ReplayRun>;
  replayRun(id: string): Promise<ReplayRun | undefined>;
  resolve(fingerprintOrPrefix: string, reason: string, actor: string): Promise<TokenView>;
  /** The record of a token given in clear (read from stdin by the CLI); the token itself is never stored or logged. */
  lookup(token: string): Promise<{ readonly fingerprint: string; readonly record: TokenView | undefined }>;
  /** Every type string the service revokes. */
  types(): string[];
  pause(actor: string): Promise<void>;
  resume(actor: string): Promise<void>;
  audit(filter: { readonly fingerprint?: string; readonly since?: number; readonly limit?: number }): Promise<AuditEntry[]>;
  /** Re-seals queued and failed tokens under the newest encryption key (key rotation); `progress` counts jobs looked at. */
  rekey(actor: string, progress?: Progress): Promise<RekeyReport>;
  /** Requeues every note (or resolve) on a vulnerability in the feedback failed set; how many. Feedback off: a 409. */
  retryFeedback(actor: string): Promise<number>;
}

/** How far a long operation is: `done` of `total` items handled. */
export type Progress = (done: number, total: number) => void;

export interface ReplaySelection {
  readonly fingerprint?: string;
  readonly filter?: FailedFilter;
  readonly all?: boolean;
}

/** A background replay (schemas/admin-replay-run.schema.json). */
export interface ReplayRun {
  readonly id: string;
  readonly state: 'running' | 'done' | 'failed';
  readonly actor: string;
  readonly startedAt: string;
  /** Last progress written; a `running` replay whose updatedAt stops moving was cut short (its process stopped). */
  readonly updatedAt: string;
  readonly finishedAt?: string;
  /** Failed tokens selected (known once they are listed; 0 before). */
  readonly total: number;
  /** Of those, how many were handled so far. */
  readonly done: number;
  /** Of those, how many were queued again. */
  readonly queued: number;
  /** Why a `failed` replay stopped. */
  readonly error?: string;
}

export interface RekeyReport {
  /** Jobs now sealed under the newest key. */
  readonly rekeyed: number;
  /** Jobs already under the newest key. */
  readonly current: number;
  /** Jobs running during the run, left as they are (they finish, or fail and can be re-keyed then). */
  readonly skippedActive: number;
  /** Stored GitLab credentials (self-rotated ones) now sealed under the newest key. */
  readonly credentials: number;
  /** Key ids some job or credential still needs: keep these keys configured. */
  readonly stillUsed: readonly string[];
}
