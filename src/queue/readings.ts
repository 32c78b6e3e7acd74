// What the scrape-time gauges read from Redis (the QueueReadings port of src/domain/ports.ts). Cheap on purpose: one
// getJobCounts script and a few reads per queue (see unsettled.ts), one HGETALL for the breakers.
import { Queue } from 'bullmq';
import type { Cluster, Redis } from 'ioredis';
import type { CredentialBreakers } from '../../providers/contract.js';
import type { QueueReadings } from '../domain/ports.js';
import { KEY_PREFIX, QUEUE_STREAMS } from './jobs.js';
import { oldestWaitingSeconds, UnsettledTokens } from './unsettled.js';

/** Completed jobs are removed at once (their outcome record stays), so only these states hold jobs. */
const STATES = ['waiting', 'active', 'delayed', 'failed'] as const;

export function queueReadings(connection: Redis | Cluster, queueNames: readonly string[], breakers: CredentialBreakers): QueueReadings {
  const queues = new Map(queueNames.map((name) => [name, new Queue(name, { connection, prefix: KEY_PREFIX, streams: QUEUE_STREAMS, skipWaitingForReady: true })]));
  for (const q of queues.values()) q.on('error', () => undefined); // the connection's owner logs Redis errors
  const unsettled = new UnsettledTokens(connection);
  return {
    async queue(name) {
      const queue = queues.get(name);
      if (!queue) throw new Error(`queue ${name} is not read`);
      const counts = await queue.getJobCounts(...STATES);
      const jobs = Object.fromEntries(STATES.map((state) => [state, counts[state] ?? 0]));
      return { jobs, oldestWaitingSeconds: await oldestWaitingSeconds(queue, unsettled) };
    },
    waiting: () => unsettled.waitingCounts(),
    openBreakers: async () => Object.keys(await breakers.states()),
    async close() {
      await Promise.all([...queues.values()].map((q) => q.close()));
    },
  };
}
