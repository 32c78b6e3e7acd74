// The revocation job: its data at rest (sealed token, never the token) and the queue-wide names and options.
import type { JobsOptions, WorkerOptions } from 'bullmq';
import type { LostAnswer } from '../domain/outcome.js';
import type { VulnerabilityRef } from '../domain/vulnerability.js';

/** One job per token: what the workers revoke. */
export const QUEUE_NAME = 'revocations';
/** One job per accepted request, or per group of requests that arrived together (see producer.ts): their tokens, sealed together, fanned out into QUEUE_NAME by the workers. */
export const INTAKE_QUEUE = 'intake';
/** BullMQ's queue prefix: the service's key prefix (src/keys.ts lists every key). */
export { KEY_PREFIX } from '../keys.js';
export const JOB_NAME = 'revoke';
export const INTAKE_JOB_NAME = 'batch';
export const BACKOFF_TYPE = 'jittered-exponential';

export interface RevocationJobData {
  readonly v: 1;
  /** Also the job id: one job per token, however often it is submitted. */
  readonly fp: string;
  readonly type: string;
  /** AES-256-GCM of the token, bound to `fp`. */
  readonly sealed: string;
  readonly location?: string;
  /** The vulnerabilities (ids only) that named this token when its job was made; the record keeps every later one too. */
  readonly vulnerabilities?: readonly VulnerabilityRef[];
  /** Start of the retry horizon (ms since epoch). */
  readonly acceptedAt: number;
  /** An earlier attempt's revoking call got no answer: what GitLab may have done (names only, no secret). */
  readonly lost?: LostAnswer;
}

/** Accepted requests, as durable as per-token jobs, written in one Redis call so that GitLab's answer is fast. */
export interface IntakeJobData {
  readonly v: 1;
  /** AES-256-GCM of the JSON array of accepted items, bound to the job id. */
  readonly sealed: string;
  readonly count: number;
  readonly acceptedAt: number;
}

/** The items sealed in an intake job. */
export interface IntakeItem {
  readonly type: string;
  readonly token: string;
  readonly location?: string;
  readonly vulnerabilities?: readonly VulnerabilityRef[];
}

/** What a finished job returns (kept in BullMQ's event stream): no token, no ciphertext. */
export interface RevocationJobResult {
  readonly status: string;
  readonly via: string;
}

/**
 * Every queue's BullMQ event stream (`<queue>:events`), bounded: nothing of ours reads it (outcomes, records and the
 * audit stream say what happened), so it is kept short instead of BullMQ's 10,000 entries (some 1.2 MB per queue, and
 * about 560 bytes per token while under that bound). Every Queue we make passes it: each writes it to the queue's meta.
 */
export const QUEUE_STREAMS = { events: { maxLen: 500 } };

export const JOB_OPTIONS: JobsOptions = {
  // The retry horizon, not the attempt count, decides when a token stops being retried; this is only a backstop.
  attempts: 10_000,
  backoff: { type: BACKOFF_TYPE },
  // Removing a finished job removes its ciphertext; the outcome record remembers the result.
  removeOnComplete: true,
  removeOnFail: false,
};

/** Intake jobs never fail for a passing Redis problem: they retry until fanned out (the attempt cap is a backstop). */
export const INTAKE_JOB_OPTIONS: JobsOptions = {
  attempts: 100_000,
  backoff: { type: BACKOFF_TYPE },
  removeOnComplete: true,
  removeOnFail: false,
};

/**
 * Queues of what follows a settlement (webhook notifications, notes on vulnerabilities): never in a revocation's way,
 * retried with the one backoff (see follow-up.ts: without a cap, the attempt count bounds them), and
 * kept (the newest `keepFailed`) when they fail for good.
 */
export const followUpJobOptions = (attempts: number, keepFailed: number): JobsOptions => ({
  attempts,
  backoff: { type: BACKOFF_TYPE },
  removeOnComplete: true,
  removeOnFail: { count: keepFailed },
});

/**
 * Every queue's retry backoff, as BullMQ worker settings: a job whose backoff type is BACKOFF_TYPE waits `backoffDelay`.
 * (A job queued with one of BullMQ's own types keeps that type's delay: BullMQ asks this strategy only for other types.)
 */
export const backoffSettings = (baseDelayMs: number, maxDelayMs: number): NonNullable<WorkerOptions['settings']> => ({
  backoffStrategy: (attemptsMade: number, type?: string) => (type === BACKOFF_TYPE ? backoffDelay(attemptsMade, baseDelayMs, maxDelayMs) : 0),
});

/** Exponential backoff with "equal jitter": half fixed, half random, so retries of a burst spread out. */
export function backoffDelay(attemptsMade: number, baseMs: number, maxMs: number, random = Math.random): number {
  const exp = Math.min(maxMs, baseMs * 2 ** Math.max(0, attemptsMade - 1));
  return Math.round(exp / 2 + random() * (exp / 2));
}
