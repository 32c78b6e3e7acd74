// Inbound budgets, shared by every replica through Redis, keyed by a digest of the credential and the client address.
import { createHash } from 'node:crypto';
import type { RequestHandler } from 'express';
import { ipKeyGenerator, rateLimit, type Store } from 'express-rate-limit';
import { AppError } from '../errors.js';

export interface BudgetOptions {
  readonly perMinute: number;
  /** Where the count is kept, shared by the replicas; undefined: in memory (single process, unit tests of the app: test/unit/app.test.ts). */
  readonly store: Store | undefined;
}

export function budget({ perMinute, store }: BudgetOptions): RequestHandler {
  return rateLimit({
    windowMs: 60_000,
    limit: perMinute,
    standardHeaders: 'draft-6',
    legacyHeaders: false,
    passOnStoreError: false,
    ...(store ? { store } : {}),
    keyGenerator: (req, res) =>
      createHash('sha256')
        .update(String(res.locals['credentialDigest'] ?? ''))
        .update('\0')
        .update(ipKeyGenerator(req.ip ?? ''))
        .digest('base64url'),
    handler: (_req, _res, next, options) =>
      next(new AppError('rate_limited', `Too many requests: at most ${String(options.limit)} per minute per client; retry after the Retry-After delay`)),
  });
}
