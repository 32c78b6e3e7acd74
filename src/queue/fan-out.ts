// The workers' first step for a large request: open its intake job and turn it into one revocation job per token.
import { UnrecoverableError, Worker, type Job } from 'bullmq';
import type { Cluster, Redis } from 'ioredis';
import { newestKey, open, type EncryptionKey } from '../domain/crypto.js';
import { fingerprint, shortFingerprint } from '../domain/fingerprint.js';
import type { Logger } from '../logger.js';
import { admit, type Admission } from './admission.js';
import { INTAKE_QUEUE, KEY_PREFIX, backoffSettings, type IntakeItem, type IntakeJobData } from './jobs.js';
import type { FeedbackRequests } from './feedback.js';

export interface FanOutDeps extends Admission {
  readonly connection: Redis | Cluster;
  readonly keys: () => readonly EncryptionKey[];
  readonly logger: Logger;
  readonly retry: { readonly baseDelayMs: number; readonly maxDelayMs: number };
  /** Vulnerability feedback, when on: a settled token sent again (perhaps by a new vulnerability) gets its notes. */
  readonly feedback?: FeedbackRequests | undefined;
}

export function createIntakeWorker(deps: FanOutDeps): Worker<IntakeJobData> {
  return new Worker<IntakeJobData>(INTAKE_QUEUE, (job) => fanOut(job, deps), {
    connection: deps.connection,
    prefix: KEY_PREFIX,
    concurrency: 4,
    maxStalledCount: 1_000,
    settings: backoffSettings(deps.retry.baseDelayMs, deps.retry.maxDelayMs),
  });
}

/** Idempotent (see admit). A Redis error throws, and the intake job is retried with backoff. */
export async function fanOut(job: Job<IntakeJobData>, deps: FanOutDeps): Promise<{ queued: number; known: number }> {
  const id = job.id ?? '';
  let items: IntakeItem[];
  try {
    items = JSON.parse(open(job.data.sealed, deps.keys(), id)) as IntakeItem[];
  } catch (err) {
    deps.logger.error({ batch: shortFingerprint(id), reason: 'decryption_failed' }, 'intake job cannot be opened; kept in the failed set');
    throw new UnrecoverableError(`decryption_failed: ${(err as Error).message}`);
  }
  const tokens = items.map((i) => ({ ...i, fp: fingerprint(i.token) }));
  const known = await admit(tokens, job.data.acceptedAt, deps, newestKey(deps.keys()));
  const queued = tokens.length - known.size;
  // After the revocations are queued, and never failing the batch: feedback is never in a revocation's way.
  if (deps.feedback) {
    await settledAgain(tokens.filter((t) => known.has(t.fp) && t.vulnerabilities?.length), deps, deps.feedback).catch((err: Error) => deps.logger.warn({ batch: shortFingerprint(id), err: err.message }, 'vulnerability feedback for settled tokens could not be queued'));
  }
  deps.logger.info({ batch: shortFingerprint(id), tokens: tokens.length, queued, known: known.size, fanOutMs: Date.now() - job.data.acceptedAt }, 'batch fanned out');
  return { queued, known: known.size };
}

/** Feedback for settled tokens sent again: the markers make a resend of a noted finding do nothing. Three round trips. */
async function settledAgain(tokens: ReadonlyArray<{ fp: string; vulnerabilities?: IntakeItem['vulnerabilities'] }>, deps: FanOutDeps, feedback: FeedbackRequests): Promise<void> {
  if (tokens.length === 0) return;
  const outcomes = await deps.outcomes.getMany(tokens.map((t) => t.fp));
  const settled = tokens.flatMap((t) => {
    const outcome = outcomes.get(t.fp);
    return outcome ? [{ fp: t.fp, outcome, vulnerabilities: t.vulnerabilities ?? [] }] : [];
  });
  await feedback.fromOutcomes(settled);
}
