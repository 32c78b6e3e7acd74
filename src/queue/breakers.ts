// Credential breakers in Redis, shared by every process, and the monitor that closes them when a credential works again.
import type { Cluster, Redis } from 'ioredis';
import type { BreakerState, CredentialBreakers } from '../../providers/contract.js';
import type { Logger } from '../logger.js';
import { KEYS } from '../keys.js';


export class RedisBreakers implements CredentialBreakers {
  constructor(
    private readonly redis: Redis | Cluster,
    private readonly logger: Logger,
  ) {}

  async isOpen(name: string): Promise<boolean> {
    return (await this.redis.hexists(KEYS.breakers, name)) === 1;
  }

  async open(name: string, reason: string, message?: string): Promise<boolean> {
    const changed = (await this.redis.hsetnx(KEYS.breakers, name, JSON.stringify({ reason, since: new Date().toISOString() }))) === 1;
    if (changed) {
      this.logger.error({ breaker: name, reason }, message ?? 'a provider refuses our credential: breaker OPEN. Jobs that need it are held (never failed) until it works again; fix or replace the credential.');
    }
    return changed;
  }

  async close(name: string): Promise<boolean> {
    const changed = (await this.redis.hdel(KEYS.breakers, name)) === 1;
    if (changed) this.logger.warn({ breaker: name }, 'credential accepted again: breaker CLOSED; held jobs resume');
    return changed;
  }

  async states(): Promise<Readonly<Record<string, BreakerState>>> {
    const raw = await this.redis.hgetall(KEYS.breakers);
    return Object.fromEntries(Object.entries(raw).map(([k, v]) => [k, JSON.parse(v) as BreakerState]));
  }
}

/** Re-checks every open breaker each `intervalMs` with `probe`; closes it when the credential works. */
export function monitorBreakers(breakers: CredentialBreakers, probe: (name: string) => Promise<boolean | undefined>, intervalMs: number, logger: Logger): () => void {
  let running = false;
  const timer = setInterval(() => {
    if (running) return;
    running = true;
    void (async () => {
      for (const name of Object.keys(await breakers.states())) {
        if ((await probe(name)) === true) await breakers.close(name);
      }
    })()
      .catch((err: Error) => logger.warn({ err: err.message }, 'breaker re-check failed; will try again'))
      .finally(() => (running = false));
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
