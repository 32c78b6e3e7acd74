// Read-only views of the service's Redis state for assertions: failed jobs, outcome records, job counts.
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { fingerprint } from '../../src/domain/fingerprint.js';
import { KEY_PREFIX, QUEUE_NAME, QUEUE_STREAMS } from '../../src/queue/jobs.js';
import type { OutcomeRecord } from '../../src/queue/outcomes.js';
import { clusterClient, clusterNodesOf } from './cluster-redis.js';

export function inspectQueue(redisUrl: string, name = QUEUE_NAME): Queue {
  const seeds = clusterNodesOf(redisUrl);
  if (seeds === undefined) return new Queue(name, { connection: { url: redisUrl }, prefix: KEY_PREFIX, streams: QUEUE_STREAMS });
  // BullMQ opens a Cluster only when given one, and then leaves it open on close(): closed here.
  const connection = clusterClient(seeds);
  const queue = new Queue(name, { connection, prefix: KEY_PREFIX, streams: QUEUE_STREAMS });
  const close = queue.close.bind(queue);
  queue.close = async () => {
    await close();
    connection.disconnect();
  };
  return queue;
}

export async function outcomeOf(client: Redis, token: string): Promise<OutcomeRecord | undefined> {
  const raw = await client.get(`${KEY_PREFIX}:outcome:${fingerprint(token)}`);
  return raw === null ? undefined : (JSON.parse(raw) as OutcomeRecord);
}

export async function failedReasonOf(queue: Queue, token: string): Promise<string | undefined> {
  const job = await queue.getJob(fingerprint(token));
  return job && (await job.isFailed()) ? job.failedReason : undefined;
}
