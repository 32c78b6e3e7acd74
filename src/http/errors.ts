// Maps every error to a JSON answer `{ error, message, details? }`; never echoes a body, a header or a token.
import type { ErrorRequestHandler, RequestHandler } from 'express';
import { AppError, type ErrorCode } from '../errors.js';
import type { Logger } from '../logger.js';

/** body-parser's error types, with answers that never include its message (V8 quotes the body in parse errors). */
const BODY_ERRORS: Readonly<Record<string, [ErrorCode, string]>> = {
  'entity.parse.failed': ['invalid_json', 'The request body is not valid JSON'],
  'encoding.invalid': ['invalid_encoding', 'The request body is not valid UTF-8'],
  'entity.too.large': ['payload_too_large', 'The request body is larger than the configured limit'],
  'entity.too.deep': ['invalid_request', 'The request body nests arrays or objects deeper than the configured limit'],
  'encoding.unsupported': ['unsupported_media_type', 'Unsupported Content-Encoding'],
  'charset.unsupported': ['unsupported_media_type', 'Unsupported charset; send UTF-8'],
  'request.aborted': ['request_aborted', 'The request was aborted'],
  'request.size.invalid': ['invalid_request', 'The request body length does not match Content-Length'],
  'server.busy': ['busy', 'Too many large request bodies in flight; retry after the Retry-After delay'],
};

export function toAppError(err: unknown): AppError {
  if (err instanceof AppError) return err;
  const type = (err as { type?: unknown }).type;
  const known = typeof type === 'string' ? BODY_ERRORS[type] : undefined;
  if (known) return new AppError(known[0], known[1]);
  return new AppError('internal_error', 'Internal error; the request was not accepted', undefined, { cause: err });
}

export function errorHandler(logger: Logger): ErrorRequestHandler {
  return (err, _req, res, _next) => {
    const e = toAppError(err);
    if (e.status === 503) res.set('Retry-After', '2');
    // `busy` is the body bound doing its job (GitLab resends): said, not an error.
    if (e.code === 'busy') logger.warn({ code: e.code }, e.message);
    else if (e.status >= 500) logger.error({ code: e.code, cause: causeName(e.cause) }, e.message);
    res.locals['errorCode'] = e.code;
    res.status(e.status).json({ error: e.code, message: e.message, ...(e.details ? { details: e.details } : {}) });
  };
}

/** Only the class and code of a cause: its message could quote what it failed on. */
const causeName = (cause: unknown): string | undefined =>
  cause instanceof Error ? `${cause.name}${(cause as { code?: unknown }).code ? `:${String((cause as { code?: unknown }).code)}` : ''}` : undefined;

export const notFound: RequestHandler = (_req, _res, next) => next(new AppError('not_found', 'No such endpoint'));

export function methodNotAllowed(allow: string): RequestHandler {
  return (req, res, next) => {
    res.set('Allow', allow);
    next(new AppError('method_not_allowed', `${req.method} is not allowed here; allowed: ${allow}`));
  };
}
