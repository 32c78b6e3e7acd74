// The gauges read from Redis at scrape time: jobs per queue and state, the oldest waiting token's age, the breakers.
// Cheap on purpose: one getJobCounts script and a few reads per queue (see unsettled.ts), one HGETALL for the breakers.
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { CredentialBreakers } from '../../providers/contract.js';
import { KEY_PREFIX } from '../queue/jobs.js';
import { oldestWaitingSeconds, UnsettledTokens } from '../queue/unsettled.js';
import type { Metrics } from './index.js';

/** Completed jobs are removed at once (their outcome record stays), so only these states hold jobs. */
const STATES = ['waiting', 'active', 'delayed', 'failed'] as const;

/** Registers the queue and breaker collectors; returns what closes the queue handles. */
export function watchQueues(metrics: Metrics, connection: Redis, queueNames: readonly string[], breakers: CredentialBreakers, knownBreakers: readonly string[]): () => Promise<void> {
  const queues = queueNames.map((name) => new Queue(name, { connection, prefix: KEY_PREFIX, skipWaitingForReady: true }));
  for (const q of queues) q.on('error', () => undefined); // the connection's owner logs Redis errors
  const unsettled = new UnsettledTokens(connection);
  metrics.onScrape(async () => {
    await Promise.all(queues.map((q) => collectQueue(metrics, unsettled, q)));
  });
  // Reasons seen once are reported 0 when nothing waits for them any more, so that a drained wait is a 0, not a gap.
  const reasons = new Set<string>();
  metrics.onScrape(async () => {
    const waiting = await unsettled.waitingCounts();
    for (const why of Object.keys(waiting)) reasons.add(why);
    for (const why of reasons) metrics.tokensWaiting.set({ why }, waiting[why] ?? 0);
  });
  // Breakers seen (configured or once open) are reported 0 when closed, so that a closed breaker is a 0, not a gap.
  const seen = new Set(knownBreakers);
  metrics.onScrape(async () => {
    const open = await breakers.states();
    for (const name of Object.keys(open)) seen.add(name);
    for (const name of seen) metrics.breakerOpen.set({ breaker: name }, name in open ? 1 : 0);
  });
  return async () => {
    await Promise.all(queues.map((q) => q.close()));
  };
}

async function collectQueue(metrics: Metrics, unsettled: UnsettledTokens, queue: Queue): Promise<void> {
  const counts = await queue.getJobCounts(...STATES);
  for (const state of STATES) metrics.jobs.set({ queue: queue.name, state }, counts[state] ?? 0);
  metrics.oldestWaitingAge.set({ queue: queue.name }, (await oldestWaitingSeconds(queue, unsettled)) ?? 0);
}
