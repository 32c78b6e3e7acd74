// Inbound budgets, shared by every replica through Redis, keyed by a digest of the credential and the client address.
import { createHash } from 'node:crypto';
import type { RequestHandler } from 'express';
import { ipKeyGenerator, rateLimit, type IncrementResponse, type Options, type Store } from 'express-rate-limit';
import { RedisStore } from 'rate-limit-redis';
import { AppError, StoreUnavailableError } from '../errors.js';

/** The one Redis call the store needs. */
export type SendCommand = (...args: string[]) => Promise<unknown>;

/**
 * rate-limit-redis loads its Lua scripts once, at init; if Redis was down then, every later call would fail.
 * This wrapper re-initialises after a failure and turns any store error into a 503, like the queue does.
 */
class ResilientStore implements Store {
  readonly #inner: RedisStore;
  #options: Options | undefined;
  #broken = false;

  constructor(sendCommand: SendCommand, readonly prefix: string) {
    this.#inner = new RedisStore({ sendCommand: (...args: string[]) => sendCommand(...args) as Promise<never>, prefix });
  }

  async init(options: Options): Promise<void> {
    this.#options = options;
    await this.#inner.init(options).catch(() => (this.#broken = true));
  }

  async increment(key: string): Promise<IncrementResponse> {
    try {
      if (this.#broken && this.#options) await this.#inner.init(this.#options);
      this.#broken = false;
      return await this.#inner.increment(key);
    } catch (err) {
      this.#broken = true;
      throw new StoreUnavailableError(err);
    }
  }

  async decrement(key: string): Promise<void> {
    await this.#inner.decrement(key).catch(() => undefined);
  }

  async resetKey(key: string): Promise<void> {
    await this.#inner.resetKey(key);
  }
}

export interface BudgetOptions {
  readonly name: string;
  readonly perMinute: number;
  readonly sendCommand: SendCommand | undefined;
}

/** `sendCommand` undefined: an in-memory budget (single process, used by unit tests of the app). */
export function budget({ name, perMinute, sendCommand }: BudgetOptions): RequestHandler {
  return rateLimit({
    windowMs: 60_000,
    limit: perMinute,
    standardHeaders: 'draft-6',
    legacyHeaders: false,
    passOnStoreError: false,
    ...(sendCommand ? { store: new ResilientStore(sendCommand, `trapi:rl:${name}:`) } : {}),
    keyGenerator: (req, res) =>
      createHash('sha256')
        .update(String(res.locals['credentialDigest'] ?? ''))
        .update('\0')
        .update(ipKeyGenerator(req.ip ?? ''))
        .digest('base64url'),
    handler: (_req, _res, next, options) =>
      next(new AppError('rate_limited', `Too many requests: at most ${String(options.limit)} per minute per client; retry after the Retry-After delay`, 429)),
  });
}
