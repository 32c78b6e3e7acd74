// One log line per request: route (never the raw URL, which could carry anything), status, time, batch counts.
import type { Request, RequestHandler, Response } from 'express';
import type { Logger } from '../logger.js';
import type { Metrics } from '../metrics/index.js';

/**
 * Names every request this middleware sees by one fixed label: for a mounted app whose own routes are not ours
 * (Bull Board: its page, its assets, its API), which would otherwise be `unmatched` or its own patterns.
 */
export function labelRoute(label: string): RequestHandler {
  return (_req, res, next) => {
    res.locals['route'] = label;
    next();
  };
}

/** A bounded name for the request: a label set above, the Express route pattern, or `unmatched` (never the raw URL). */
export function routeOf(req: Request, res: Response): string {
  const label = res.locals['route'];
  if (typeof label === 'string') return label;
  const path = (req.route as { path?: unknown } | undefined)?.path;
  return typeof path === 'string' ? `${req.baseUrl}${path}` : 'unmatched';
}

export function requestLog(logger: Logger): RequestHandler {
  return (req, res, next) => {
    const started = process.hrtime.bigint();
    res.on('finish', () => {
      const level = res.statusCode >= 500 ? 'error' : res.statusCode >= 400 ? 'warn' : 'info';
      if (!logger.isLevelEnabled(level)) return;
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      const { batch, errorCode } = res.locals as { batch?: object; errorCode?: string };
      logger[level]({ method: req.method, route: routeOf(req, res), status: res.statusCode, ms: Math.round(ms * 10) / 10, ...(batch ? { batch } : {}), ...(errorCode ? { error: errorCode } : {}) }, 'request');
    });
    next();
  };
}

/** Counts each answered request by route (see routeOf), method and status. */
export function countRequests(metrics: Metrics): RequestHandler {
  return (req, res, next) => {
    res.on('finish', () => {
      metrics.httpRequests.inc({ route: routeOf(req, res), method: req.method, status: String(res.statusCode) });
    });
    next();
  };
}
