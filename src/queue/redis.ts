// Redis connections: the producer fails fast (a request must never hang), the worker waits and reconnects.
import { Redis } from 'ioredis';
import type { Logger } from '../logger.js';

/**
 * For the HTTP edge: no offline queue, one try, 2 s per command, so a dead Redis is a prompt 503. Auto-pipelining
 * sends the commands of concurrent requests (rate-limit counters, intake jobs) in one write per event-loop tick.
 */
export function producerConnection(url: string): Redis {
  return new Redis(url, {
    enableAutoPipelining: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    commandTimeout: 2000,
    connectTimeout: 2000,
    lazyConnect: true,
    retryStrategy: (times) => Math.min(times * 200, 2000),
  });
}

/** For workers: BullMQ requires `maxRetriesPerRequest: null` so blocking calls wait out a Redis restart. */
export function workerConnection(url: string): Redis {
  return new Redis(url, {
    maxRetriesPerRequest: null,
    connectTimeout: 5000,
    retryStrategy: (times) => Math.min(times * 500, 5000),
  });
}

/** Resolves once the connection is ready, or rejects after `timeoutMs`. */
export async function connect(redis: Redis, timeoutMs = 5000): Promise<void> {
  if (redis.status === 'ready') return;
  if (redis.status === 'wait') redis.connect().catch(() => undefined); // 'error' events carry the cause; retryStrategy reconnects
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => done(new Error(`Redis not ready after ${timeoutMs} ms`)), timeoutMs);
    const onReady = () => done();
    const done = (err?: Error) => {
      clearTimeout(timer);
      redis.off('ready', onReady);
      if (err) reject(err);
      else resolve();
    };
    redis.on('ready', onReady);
  });
}

/** BullMQ loses jobs silently if Redis evicts keys: say so loudly at start-up. */
export async function warnUnlessNoEviction(redis: Redis, logger: Logger): Promise<void> {
  try {
    const reply = (await redis.config('GET', 'maxmemory-policy')) as string[];
    const policy = reply[1];
    if (policy !== 'noeviction') {
      logger.warn({ policy }, `Redis maxmemory-policy is "${policy}", not "noeviction": under memory pressure Redis may evict queued tokens. Set maxmemory-policy noeviction.`);
    }
  } catch (err) {
    logger.warn({ err: (err as Error).message }, 'Could not read Redis maxmemory-policy (CONFIG may be disabled); make sure it is noeviction');
  }
}
