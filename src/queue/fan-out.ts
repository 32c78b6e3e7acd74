// The workers' first step: open an intake job and turn it into one revocation job per token (job id = fingerprint).
import { UnrecoverableError, Worker, type Job, type Queue } from 'bullmq';
import type { Cluster, Redis } from 'ioredis';
import { newestKey, open, seal, type EncryptionKey } from '../domain/crypto.js';
import { fingerprint, shortFingerprint } from '../domain/fingerprint.js';
import type { Logger } from '../logger.js';
import { INTAKE_QUEUE, JOB_NAME, KEY_PREFIX, backoffSettings, type IntakeItem, type IntakeJobData, type RevocationJobData } from './jobs.js';
import type { FeedbackRequests } from './feedback.js';
import type { OutcomeStore } from './outcomes.js';
import type { RecordStore } from './records.js';
import type { UnsettledTokens } from './unsettled.js';

export interface FanOutDeps {
  readonly connection: Redis | Cluster;
  readonly revocations: Queue<RevocationJobData>;
  readonly outcomes: OutcomeStore;
  readonly records: RecordStore;
  readonly unsettled: UnsettledTokens;
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

/**
 * Idempotent: a token whose outcome is recorded is skipped, and a token with a job already (waiting, running,
 * failed) is absorbed by BullMQ's job-id check. A Redis error throws, and the intake job is retried with backoff.
 */
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
  // Independent of each other, so sent together (one round trip's wait, not two). The record says `accepted` before
  // any worker can say `attempted`: both are done before the jobs below exist.
  const [known] = await Promise.all([deps.outcomes.known(tokens.map((t) => t.fp)), deps.records.received(tokens, job.data.acceptedAt)]);
  const fresh = tokens.filter((t) => !known.has(t.fp));
  const key = newestKey(deps.keys());
  await deps.revocations.addBulk(
    fresh.map((t) => ({
      name: JOB_NAME,
      data: {
        v: 1,
        fp: t.fp,
        type: t.type,
        sealed: seal(t.token, key, t.fp),
        acceptedAt: job.data.acceptedAt,
        ...(t.location === undefined ? {} : { location: t.location }),
        ...(t.vulnerabilities?.length ? { vulnerabilities: t.vulnerabilities } : {}),
      },
      opts: { jobId: t.fp },
    })),
  );
  // After the jobs exist, so that an entry always has a job to look at (see unsettled.ts).
  await deps.unsettled.accepted(fresh.map((t) => t.fp), job.data.acceptedAt);
  // After the revocations are queued, and never failing the batch: feedback is never in a revocation's way.
  if (deps.feedback) {
    await settledAgain(tokens.filter((t) => known.has(t.fp) && t.vulnerabilities?.length), deps, deps.feedback).catch((err: Error) => deps.logger.warn({ batch: shortFingerprint(id), err: err.message }, 'vulnerability feedback for settled tokens could not be queued'));
  }
  deps.logger.info({ batch: shortFingerprint(id), tokens: tokens.length, queued: fresh.length, known: known.size, fanOutMs: Date.now() - job.data.acceptedAt }, 'batch fanned out');
  return { queued: fresh.length, known: known.size };
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
