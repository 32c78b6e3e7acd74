// Turns accepted tokens into durable jobs: sealed, one per fingerprint, acknowledged by Redis before we answer.
import type { Queue } from 'bullmq';
import { seal, type EncryptionKey } from '../domain/crypto.js';
import type { AcceptedToken } from '../domain/revocation.js';
import { StoreUnavailableError } from '../errors.js';
import { JOB_NAME, type RevocationJobData } from './jobs.js';
import type { OutcomeStore } from './outcomes.js';

export interface EnqueueResult {
  /** Tokens handed to Redis (an existing job with the same fingerprint absorbs a duplicate). */
  readonly queued: number;
  /** Tokens whose outcome is already recorded: nothing to do. */
  readonly known: number;
}

/** Longest a request waits for Redis before answering 503: GitLab's own read timeout is 20 s. */
const DEADLINE_MS = 5000;

export class RevocationProducer {
  constructor(
    private readonly queue: Queue<RevocationJobData>,
    private readonly outcomes: OutcomeStore,
    private readonly key: () => EncryptionKey,
  ) {}

  /** Resolves only once Redis has acknowledged every job; otherwise rejects with StoreUnavailableError. */
  async enqueue(tokens: readonly AcceptedToken[]): Promise<EnqueueResult> {
    if (tokens.length === 0) return { queued: 0, known: 0 };
    try {
      return await withDeadline(this.#enqueue(tokens), DEADLINE_MS);
    } catch (err) {
      throw new StoreUnavailableError(err);
    }
  }

  async #enqueue(tokens: readonly AcceptedToken[]): Promise<EnqueueResult> {
    const known = await this.outcomes.known(tokens.map((t) => t.fp));
    const fresh = tokens.filter((t) => !known.has(t.fp));
    const key = this.key();
    const acceptedAt = Date.now();
    await this.queue.addBulk(
      fresh.map((t) => ({
        name: JOB_NAME,
        data: { v: 1, fp: t.fp, type: t.type, sealed: seal(t.token, key, t.fp), acceptedAt, ...(t.location === undefined ? {} : { location: t.location }) },
        opts: { jobId: t.fp },
      })),
    );
    return { queued: fresh.length, known: known.size };
  }
}

function withDeadline<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`Redis did not acknowledge within ${ms} ms`)), ms);
  });
  return Promise.race([work, deadline]).finally(() => clearTimeout(timer));
}
