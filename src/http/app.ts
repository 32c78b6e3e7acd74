// createApp(deps): the Express application of the Token Revocation API. It never listens; entry points do.
import type { Express, RequestHandler } from 'express';
import type { Store } from 'express-rate-limit';
import type { Enqueuer, Readiness, TokenTypes } from '../domain/ports.js';
import { triage } from '../domain/revocation.js';
import { UnsupportedTokenTypeError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { Metrics } from '../metrics/index.js';
import { adminRouter, type AdminDeps } from './admin.js';
import { authenticate } from './auth.js';
import { jsonBody, requireJson } from './body.js';
import { errorHandler, methodNotAllowed, notFound } from './errors.js';
import { openApiDocument } from './openapi.js';
import { budget } from './rate-limit.js';
import { countRequests, requestLog } from './request-log.js';
import { strictApp } from './routing.js';
import { revokeRequestValidator, type RequestLimits } from './validate.js';

export interface AppDeps {
  readonly logger: Logger;
  /** Read per request, so that a reload of the pre-shared tokens takes effect at once. */
  readonly apiTokens: () => readonly string[];
  readonly tokenTypes: TokenTypes;
  readonly enqueuer: Enqueuer;
  readonly readiness: () => Promise<Readiness>;
  /** `maxInflightBodyBytes`: see jsonBody (src/http/body.ts); unset, no bound. */
  readonly limits: RequestLimits & { readonly maxBodyBytes: number; readonly maxJsonDepth: number; readonly maxInflightBodyBytes?: number | undefined };
  readonly rateLimit: {
    readonly postPerMinute: number;
    readonly getPerMinute: number;
    /** The shared count of the budget called `name`; absent: in memory (unit tests of the app: test/unit/app.test.ts). */
    readonly store?: (name: 'get' | 'post') => Store;
  };
  readonly trustProxy: number;
  /** Prometheus metrics of this process, served at /metrics; absent: no /metrics. */
  readonly metrics?: Metrics | undefined;
  /** The admin API and Bull Board under /admin/; absent (ADMIN_API_TOKENS unset): /admin/ answers 404. */
  readonly admin?: AdminDeps;
}

export function createApp(deps: AppDeps): Express {
  const app = strictApp();
  app.set('trust proxy', deps.trustProxy);
  app.use(requestLog(deps.logger));
  if (deps.metrics) app.use(countRequests(deps.metrics));

  const auth = authenticate(deps.apiTokens);
  const { store } = deps.rateLimit;
  const getBudget = budget({ perMinute: deps.rateLimit.getPerMinute, store: store?.('get') });
  const postBudget = budget({ perMinute: deps.rateLimit.postPerMinute, store: store?.('post') });

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

  // The API's description: no credential (it holds no secret), built once from schemas/.
  const openapi = JSON.stringify(openApiDocument());
  app
    .route('/openapi.json')
    .get((_req, res) => {
      res.type('application/json').send(openapi);
    })
    .all(methodNotAllowed('GET, HEAD'));

  if (deps.admin) app.use(adminRouter(deps.admin, deps.limits));

  return withHealth(app, deps.readiness, deps.logger, deps.metrics);
}

/** ROLE=worker serves only the health endpoints, for the orchestrator's probes. */
export function createHealthApp(readiness: () => Promise<Readiness>, logger: Logger, metrics?: Metrics): Express {
  const app = strictApp();
  if (metrics) app.use(countRequests(metrics));
  return withHealth(app, readiness, logger, metrics);
}

function withHealth(app: Express, readiness: () => Promise<Readiness>, logger: Logger, metrics?: Metrics): Express {
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
  if (metrics) {
    // Open by default (Prometheus convention: nothing in it is a token or fingerprint); METRICS_TOKEN closes it.
    const guard: RequestHandler[] = metrics.credentials().length > 0 ? [authenticate(() => metrics.credentials())] : [];
    app
      .route('/metrics')
      .get(...guard, async (_req, res) => {
        const { contentType, body } = await metrics.scrape();
        res.type(contentType).send(body);
      })
      .all(methodNotAllowed('GET, HEAD'));
  }
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
    // Counted once durably queued; the type label stays bounded: only supported types are named.
    if (deps.metrics) {
      // One increment per type, not per token: a batch usually holds one or two types.
      const byType = new Map<string, number>();
      for (const t of accepted) byType.set(t.type, (byType.get(t.type) ?? 0) + 1);
      for (const [type, n] of byType) deps.metrics.tokensReceived.inc({ type }, n);
    }
    if (unsupported.length > 0) deps.metrics?.tokensReceived.inc({ type: 'unsupported' }, unsupported.length);
    res.locals['batch'] = { items: items.length, queued, unsupported: unsupported.length };
    if (unsupported.length > 0) throw new UnsupportedTokenTypeError(unsupported, accepted.length);
    res.status(204).end();
  };
}
