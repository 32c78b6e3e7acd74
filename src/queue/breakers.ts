// Credential breakers in Redis, shared by every process, and the monitor that closes them when a credential works again.
import type { Cluster, Redis } from 'ioredis';
import type { BreakerState, CredentialBreakers } from '../../providers/contract.js';
import type { Logger } from '../logger.js';
import { KEYS } from '../keys.js';

/**
 * How long one read of the open breakers answers every call's question. Asked before each provider call, a read per call
 * was a Redis round trip per call (issue 16); at most this late, a breaker opened or closed by another process is seen
 * here. Its own open and close are seen at once. A call made meanwhile with a refused credential is refused again and
 * held, as any: nothing is lost, a few calls more are made.
 */
export const BREAKER_READ_FRESH_MS = 200;

export class RedisBreakers implements CredentialBreakers {
  /** The names open at the last read, and when it was made. */
  #read: { readonly at: number; readonly open: ReadonlySet<string> } | undefined;
  /** The read under way, shared by the calls that ask meanwhile. */
  #reading: Promise<ReadonlySet<string>> | undefined;
  /** Bumped by this process's own open and close: a read begun before one is not kept. */
  #generation = 0;

  constructor(
    private readonly redis: Redis | Cluster,
    private readonly logger: Logger,
    private readonly freshMs = BREAKER_READ_FRESH_MS,
  ) {}

  async isOpen(name: string): Promise<boolean> {
    const read = this.#read;
    if (read && Date.now() - read.at < this.freshMs) return read.open.has(name);
    return (await this.#readOpen()).has(name);
  }

  #readOpen(): Promise<ReadonlySet<string>> {
    if (this.#reading) return this.#reading;
    const generation = this.#generation;
    const at = Date.now();
    const reading = this.redis
      .hkeys(KEYS.breakers)
      .then((names) => {
        const open = new Set(names);
        if (generation === this.#generation) this.#read = { at, open };
        return open;
      })
      .finally(() => {
        if (this.#reading === reading) this.#reading = undefined;
      });
    this.#reading = reading;
    return reading;
  }

  /** This process's own change is seen by its next question at once. */
  #changed(): void {
    this.#generation++;
    this.#read = undefined;
    this.#reading = undefined;
  }

  async open(name: string, reason: string, message?: string): Promise<boolean> {
    const changed = (await this.redis.hsetnx(KEYS.breakers, name, JSON.stringify({ reason, since: new Date().toISOString() }))) === 1;
    this.#changed();
    if (changed) {
      this.logger.error({ breaker: name, reason }, message ?? 'a provider refuses our credential: breaker OPEN. Jobs that need it are held (never failed) until it works again; fix or replace the credential.');
    }
    return changed;
  }

  async close(name: string): Promise<boolean> {
    const changed = (await this.redis.hdel(KEYS.breakers, name)) === 1;
    this.#changed();
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
