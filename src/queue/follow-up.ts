// The workers of the queues that follow a settlement (webhook notifications, vulnerability feedback): one way to run
// them, with the one backoff, and one way to log an attempt that failed.
import { UnrecoverableError, Worker, type Job, type Processor } from 'bullmq';
import type { Cluster, Redis } from 'ioredis';
import type { Logger } from '../logger.js';
import { backoffSettings, KEY_PREFIX } from './jobs.js';

export interface FollowUpWorkerDeps {
  readonly connection: Redis | Cluster;
  readonly logger: Logger;
  readonly concurrency?: number | undefined;
  /** RETRY_BASE_DELAY_MS: where the backoff of a failed attempt starts (no cap: the attempt count bounds it). */
  readonly retryBaseDelayMs: number;
}

/** How a failed attempt is logged: the job's own fields (never a secret), and the two messages. */
export interface FailureLog<T> {
  fields(job: Job<T> | undefined): Record<string, unknown>;
  readonly final: string;
  readonly retry: string;
}

export function followUpWorker<T>(queue: string, process: Processor<T>, deps: FollowUpWorkerDeps, log: FailureLog<T>): Worker<T> {
  const worker = new Worker<T>(queue, process, {
    connection: deps.connection,
    prefix: KEY_PREFIX,
    concurrency: deps.concurrency ?? 4,
    settings: backoffSettings(deps.retryBaseDelayMs, Number.POSITIVE_INFINITY),
  });
  worker.on('failed', (job, err) => {
    const attempts = job?.opts.attempts ?? 1;
    const final = job !== undefined && (job.attemptsMade >= attempts || err instanceof UnrecoverableError);
    deps.logger[final ? 'error' : 'warn']({ ...log.fields(job), attempt: job?.attemptsMade, of: attempts, error: err.message }, final ? log.final : log.retry);
  });
  return worker;
}
