// A provider's small shared state in Redis (times and counts per fingerprint), scoped to its name and never a secret.
import type { Cluster, Redis } from 'ioredis';
import type { ProviderState } from '../../providers/contract.js';
import { KEYS } from '../keys.js';

export class RedisProviderState implements ProviderState {
  readonly #prefix: string;

  constructor(
    private readonly redis: Redis | Cluster,
    provider: string,
  ) {
    this.#prefix = KEYS.providerState(provider);
  }

  async get(key: string): Promise<string | undefined> {
    return (await this.redis.get(this.#prefix + key)) ?? undefined;
  }

  async set(key: string, value: string, ttlMs: number): Promise<void> {
    await this.redis.set(this.#prefix + key, value, 'PX', Math.max(1, Math.ceil(ttlMs)));
  }

  async delete(key: string): Promise<void> {
    await this.redis.del(this.#prefix + key);
  }
}
