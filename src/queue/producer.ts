// The HTTP edge's side of the queue: each accepted request becomes one sealed intake job, acknowledged by Redis before we answer.
import type { Queue } from 'bullmq';
import { seal, type EncryptionKey } from '../domain/crypto.js';
import { batchId, type AcceptedToken } from '../domain/revocation.js';
import { StoreUnavailableError } from '../errors.js';
import { INTAKE_JOB_NAME, type IntakeItem, type IntakeJobData } from './jobs.js';

/** Longest a request waits for Redis before answering 503: GitLab's own read timeout is 20 s. */
const DEADLINE_MS = 5000;

export class IntakeProducer {
  constructor(
    private readonly queue: Queue<IntakeJobData>,
    private readonly key: () => EncryptionKey,
  ) {}

  /**
   * Resolves only once Redis has acknowledged the request's intake job; otherwise rejects with StoreUnavailableError.
   * One job per request (not per token) keeps the answer to GitLab fast whatever the batch size; the workers fan it
   * out into one job per token. A whole-batch resend has the same id, so it is absorbed while the first is queued.
   */
  async enqueue(tokens: readonly AcceptedToken[]): Promise<{ queued: number }> {
    if (tokens.length === 0) return { queued: 0 };
    const id = batchId(tokens);
    const items: IntakeItem[] = tokens.map((t) => (t.location === undefined ? { type: t.type, token: t.token } : { type: t.type, token: t.token, location: t.location }));
    const data: IntakeJobData = { v: 1, sealed: seal(JSON.stringify(items), this.key(), id), count: items.length, acceptedAt: Date.now() };
    try {
      await withDeadline(this.queue.add(INTAKE_JOB_NAME, data, { jobId: id }), DEADLINE_MS);
    } catch (err) {
      throw new StoreUnavailableError(err);
    }
    return { queued: items.length };
  }
}

function withDeadline<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`Redis did not acknowledge within ${ms} ms`)), ms);
  });
  return Promise.race([work, deadline]).finally(() => clearTimeout(timer));
}
