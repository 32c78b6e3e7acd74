// Accepted tokens become revocation jobs (job id = fingerprint): done by the fan-out worker for an intake job, and by
// the producer itself, before the `204`, for a small group of requests (see producer.ts).
import type { Queue } from 'bullmq';
import { seal, type EncryptionKey } from '../domain/crypto.js';
import { JOB_NAME, type IntakeItem, type RevocationJobData } from './jobs.js';
import type { OutcomeStore } from './outcomes.js';
import type { RecordStore } from './records.js';
import type { UnsettledTokens } from './unsettled.js';

/** The stores a token is admitted into; all of them on one connection when a WAIT must confirm the writes. */
export interface Admission {
  readonly revocations: Queue<RevocationJobData>;
  readonly outcomes: OutcomeStore;
  readonly records: RecordStore;
  readonly unsettled: UnsettledTokens;
}

export type Fingerprinted = IntakeItem & { readonly fp: string };

/**
 * Records every token as received and queues a revocation job for each one without an outcome; returns the
 * fingerprints that have one (settled earlier: no job, no call). Idempotent: a token with a job already (waiting,
 * running, failed) is absorbed by BullMQ's job-id check, a record is `accepted` only the first time. Three round trips,
 * in this order: the record says `accepted` before any worker can say `attempted` (both are written before the jobs
 * exist), and an unsettled entry always has a job to look at (see unsettled.ts). A Redis error throws, with whatever
 * was written already written: each step is safe to repeat.
 */
export async function admit(tokens: readonly Fingerprinted[], acceptedAt: number, a: Admission, key: EncryptionKey): Promise<Set<string>> {
  // Independent of each other, so sent together (one round trip's wait, not two).
  const [known] = await Promise.all([a.outcomes.known(tokens.map((t) => t.fp)), a.records.received(tokens, acceptedAt)]);
  const fresh = tokens.filter((t) => !known.has(t.fp));
  await a.revocations.addBulk(
    fresh.map((t) => ({
      name: JOB_NAME,
      data: {
        v: 1,
        fp: t.fp,
        type: t.type,
        sealed: seal(t.token, key, t.fp),
        acceptedAt,
        ...(t.location === undefined ? {} : { location: t.location }),
        ...(t.vulnerabilities?.length ? { vulnerabilities: t.vulnerabilities } : {}),
      },
      opts: { jobId: t.fp },
    })),
  );
  await a.unsettled.accepted(fresh.map((t) => t.fp), acceptedAt);
  return known;
}
