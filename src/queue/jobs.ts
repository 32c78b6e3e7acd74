// The revocation job: its data at rest (sealed token, never the token) and the queue-wide names and options.
import type { JobsOptions } from 'bullmq';

export const QUEUE_NAME = 'revocations';
/** Every Redis key of the service starts with this, so one Redis can be shared and scanned. */
export const KEY_PREFIX = 'trapi';
export const JOB_NAME = 'revoke';
export const BACKOFF_TYPE = 'jittered-exponential';

export interface RevocationJobData {
  readonly v: 1;
  /** Also the job id: one job per token, however often it is submitted. */
  readonly fp: string;
  readonly type: string;
  /** AES-256-GCM of the token, bound to `fp`. */
  readonly sealed: string;
  readonly location?: string;
  /** Start of the retry horizon (ms since epoch). */
  readonly acceptedAt: number;
}

/** What a finished job returns (kept in BullMQ's event stream): no token, no ciphertext. */
export interface RevocationJobResult {
  readonly status: string;
  readonly via: string;
}

export const JOB_OPTIONS: JobsOptions = {
  // The retry horizon, not the attempt count, decides when a token stops being retried; this is only a backstop.
  attempts: 10_000,
  backoff: { type: BACKOFF_TYPE },
  // Removing a finished job removes its ciphertext; the outcome record remembers the result.
  removeOnComplete: true,
  removeOnFail: false,
};

/** Exponential backoff with "equal jitter": half fixed, half random, so retries of a burst spread out. */
export function backoffDelay(attemptsMade: number, baseMs: number, maxMs: number, random = Math.random): number {
  const exp = Math.min(maxMs, baseMs * 2 ** Math.max(0, attemptsMade - 1));
  return Math.round(exp / 2 + random() * (exp / 2));
}
