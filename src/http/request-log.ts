// One log line per request: route (never the raw URL, which could carry anything), status, time, batch counts.
import type { RequestHandler } from 'express';
import type { Logger } from '../logger.js';
import type { Metrics } from '../metrics/index.js';

export function requestLog(logger: Logger): RequestHandler {
  return (req, res, next) => {
    const started = process.hrtime.bigint();
    res.on('finish', () => {
      const level = res.statusCode >= 500 ? 'error' : res.statusCode >= 400 ? 'warn' : 'info';
      if (!logger.isLevelEnabled(level)) return;
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      const route = (req.route as { path?: string } | undefined)?.path ?? 'unmatched';
      const { batch, errorCode } = res.locals as { batch?: object; errorCode?: string };
      logger[level]({ method: req.method, route, status: res.statusCode, ms: Math.round(ms * 10) / 10, ...(batch ? { batch } : {}), ...(errorCode ? { error: errorCode } : {}) }, 'request');
    });
    next();
  };
}

/** Counts each answered request by route pattern (`unmatched` for none: never the raw URL), method and status. */
export function countRequests(metrics: Metrics): RequestHandler {
  return (req, res, next) => {
    res.on('finish', () => {
      const path = (req.route as { path?: unknown } | undefined)?.path;
      const route = typeof path === 'string' ? `${req.baseUrl}${path}` : 'unmatched';
      metrics.httpRequests.inc({ route, method: req.method, status: String(res.statusCode) });
    });
    next();
  };
}
