// What the service checks, at start, of the Redis it is given: settings it cannot change on an external Redis, said
// in the log for its operator (the embedded Redis is started with them).
import type { Logger } from '../logger.js';
import { nodeOfKeys } from '../keys.js';
import type { RedisClient } from './redis.js';

/** BullMQ loses jobs silently if Redis evicts keys: say so loudly at start-up. */
export async function warnUnlessNoEviction(redis: RedisClient, logger: Logger): Promise<void> {
  try {
    const reply = (await (await nodeOfKeys(redis)).config('GET', 'maxmemory-policy')) as string[];
    const policy = reply[1];
    if (policy !== 'noeviction') {
      logger.warn({ policy }, `Redis maxmemory-policy is "${policy}", not "noeviction": under memory pressure Redis may evict queued tokens. Set maxmemory-policy noeviction.`);
    }
  } catch (err) {
    logger.warn({ err: (err as Error).message }, 'Could not read Redis maxmemory-policy (CONFIG may be disabled); make sure it is noeviction');
  }
}

/**
 * Redis keeps a small hash compact (a listpack) only while each value is within `hash-max-listpack-value`; below
 * `settings` (what the embedded Redis sets), a queued job and a token's record take a hash table instead, some 400
 * bytes more per waiting token. Not wrong, only bigger: an info line for the operator of an external Redis.
 */
export async function noteUnlessCompact(redis: RedisClient, logger: Logger, settings: Readonly<Record<string, string>>): Promise<void> {
  try {
    const node = await nodeOfKeys(redis);
    for (const [name, wanted] of Object.entries(settings)) {
      const [, value] = (await node.config('GET', name)) as string[];
      if (Number(value) < Number(wanted)) logger.info({ setting: name, value, recommended: wanted }, `Redis ${name} is ${value}: queued jobs and token records take Redis's larger encoding (about 400 bytes more per waiting token). Set ${name} ${wanted} (README, "Memory per waiting token")`);
    }
  } catch {
    // CONFIG disabled (a managed Redis): nothing to tell, the service works either way.
  }
}

