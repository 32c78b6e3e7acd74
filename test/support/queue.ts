// Read-only views of the service's Redis state for assertions: failed jobs, outcome records, job counts.
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { fingerprint } from '../../src/domain/fingerprint.js';
import { KEY_PREFIX, QUEUE_NAME } from '../../src/queue/jobs.js';
import type { OutcomeRecord } from '../../src/queue/outcomes.js';

export function inspectQueue(redisUrl: string, name = QUEUE_NAME): Queue {
  return new Queue(name, { connection: { url: redisUrl }, prefix: KEY_PREFIX });
}

export async function outcomeOf(client: Redis, token: string): Promise<OutcomeRecord | undefined> {
  const raw = await client.get(`${KEY_PREFIX}:outcome:${fingerprint(token)}`);
  return raw === null ? undefined : (JSON.parse(raw) as OutcomeRecord);
}

export async function failedReasonOf(queue: Queue, token: string): Promise<string | undefined> {
  const job = await queue.getJob(fingerprint(token));
  return job && (await job.isFailed()) ? job.failedReason : undefined;
}
