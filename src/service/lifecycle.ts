// Ordered, bounded shutdown: the stoppers a service collects while it starts, and closing what may hang on a dead Redis.
import type { Worker } from 'bullmq';
import type { Cluster, Redis } from 'ioredis';
import type { Logger } from '../logger.js';

/** One thing to stop; a service runs them in reverse order of creation. */
export type Stopper = () => Promise<unknown>;

/** How long a forced close (a disconnect) may take before shutdown goes on without it. */
export const FORCE_CLOSE_MS = 1000;

/** The longest one shutdown step may take: the grace period (HTTP or worker) plus a forced close. */
export const stepBoundMs = (shutdownTimeoutMs: number): number => shutdownTimeoutMs + 2 * FORCE_CLOSE_MS;

/** Runs every stopper, each bounded: a step that hangs (a dead Redis never answers) must not keep the others from running. */
export async function stopAll(stoppers: Stopper[], logger: Logger, boundMs: number): Promise<void> {
  for (const stop of stoppers.splice(0).reverse()) {
    const step = stop().catch((err: Error) => logger.warn({ err: err.message }, 'error while stopping'));
    if (!(await settlesWithin(step, boundMs))) logger.warn({ boundMs }, 'a shutdown step did not finish in time; going on without it');
  }
}

/** SIGTERM: stop taking jobs, let in-flight ones finish; past the grace period they are left for the stalled-job check. */
export async function closeWorker(worker: Worker, graceMs: number, logger: Logger): Promise<void> {
  if (await settlesWithin(worker.close(), graceMs)) return;
  logger.warn({ graceMs }, 'in-flight jobs did not finish in time; they will be picked up again by another worker');
  // close(true) now would only return the close() under way (BullMQ keeps the first), which against an unreachable
  // Redis never ends: cut the worker's connections instead, and do not wait on that either.
  if (!(await settlesWithin(worker.disconnect(), FORCE_CLOSE_MS))) logger.warn('the worker did not disconnect in time; leaving it');
}

/** QUIT needs an answer from Redis: only ask a connection that is ready; cut any other at once. */
export async function closeConnection(redis: Redis | Cluster): Promise<void> {
  if (redis.status === 'ready' && (await settlesWithin(redis.quit(), FORCE_CLOSE_MS))) return;
  redis.disconnect();
}

/** True when `work` settles (either way) within `ms`; otherwise false, and `work` is left to itself. */
export async function settlesWithin(work: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
  const settled = work.then(() => true as const, () => true as const);
  const result = await Promise.race([settled, timedOut]);
  clearTimeout(timer);
  return result;
}
