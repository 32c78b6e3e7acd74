// createApp(deps): the Express application of the Token Revocation API. It never listens; entry points do.
import express, { type Express, type RequestHandler } from 'express';
import type { Enqueuer, Readiness, TokenTypes } from '../domain/ports.js';
import { triage } from '../domain/revocation.js';
import { UnsupportedTokenTypeError } from '../errors.js';
import type { Logger } from '../logger.js';
import { authenticate } from './auth.js';
import { jsonBody, requireJson } from './body.js';
import { errorHandler, methodNotAllowed, notFound } from './errors.js';
import { budget, type SendCommand } from './rate-limit.js';
import { requestLog } from './request-log.js';
import { revokeRequestValidator, type RequestLimits } from './validate.js';

export interface AppDeps {
  readonly logger: Logger;
  /** Read per request, so that a reload of the pre-shared tokens takes effect at once. */
  readonly apiTokens: () => readonly string[];
  readonly tokenTypes: TokenTypes;
  readonly enqueuer: Enqueuer;
  readonly readiness: () => Promise<Readiness>;
  readonly limits: RequestLimits & { readonly maxBodyBytes: number; readonly maxJsonDepth: number };
  readonly rateLimit: { readonly postPerMinute: number; readonly getPerMinute: number; readonly sendCommand: SendCommand | undefined };
  readonly trustProxy: number;
}

export function createApp(deps: AppDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', deps.trustProxy);
  app.use(requestLog(deps.logger));

  const auth = authenticate(deps.apiTokens);
  const { sendCommand } = deps.rateLimit;
  const getBudget = budget({ name: 'get', perMinute: deps.rateLimit.getPerMinute, sendCommand });
  const postBudget = budget({ name: 'post', perMinute: deps.rateLimit.postPerMinute, sendCommand });

  app
    .route('/v1/revocable_token_types')
    .get(auth, getBudget, (_req, res) => {
      res.json({ types: deps.tokenTypes.types() });
    })
    .all(methodNotAllowed('GET, HEAD'));

  app
    .route('/v1/revoke_tokens')
    .post(auth, postBudget, requireJson, jsonBody(deps.limits), revokeTokens(deps))
    .all(methodNotAllowed('POST'));

  return withHealth(app, deps.readiness, deps.logger);
}

/** ROLE=worker serves only the health endpoints, for the orchestrator's probes. */
export function createHealthApp(readiness: () => Promise<Readiness>, logger: Logger): Express {
  const app = express();
  app.disable('x-powered-by');
  return withHealth(app, readiness, logger);
}

function withHealth(app: Express, readiness: () => Promise<Readiness>, logger: Logger): Express {
  app
    .route('/-/liveness')
    .get((_req, res) => {
      res.json({ status: 'ok' });
    })
    .all(methodNotAllowed('GET, HEAD'));
  app
    .route('/-/readiness')
    .get(async (_req, res) => {
      const r = await readiness();
      res.status(r.ready ? 200 : 503).json({ status: r.ready ? (r.degraded ? 'degraded' : 'ready') : 'not_ready', checks: r.checks });
    })
    .all(methodNotAllowed('GET, HEAD'));
  app.use(notFound);
  app.use(errorHandler(logger));
  return app;
}

/**
 * Enqueues every supported token, then answers. Unsupported types still get the spec's 400, but only after the
 * supported tokens of the same batch are durably queued: GitLab would resend the whole batch to the same 400.
 */
function revokeTokens(deps: AppDeps): RequestHandler {
  const validate = revokeRequestValidator(deps.limits);
  return async (req, res) => {
    const items = validate(req.body);
    const { accepted, unsupported } = triage(items, (t) => deps.tokenTypes.supports(t));
    const { queued } = await deps.enqueuer.enqueue(accepted);
    res.locals['batch'] = { items: items.length, queued, unsupported: unsupported.length };
    if (unsupported.length > 0) throw new UnsupportedTokenTypeError(unsupported, accepted.length);
    res.status(204).end();
  };
}
