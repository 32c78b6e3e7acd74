// Errors as types with stable codes: the HTTP edge maps them to `{ error, message, details }`, the CLI to exit codes.
import { statusOf, type ErrorCode } from './error-codes.js';

export type { ErrorCode } from './error-codes.js';

export interface ErrorDetail {
  readonly index?: number;
  readonly path?: string;
  readonly message: string;
  readonly type?: string;
}

/** Base of every error the service raises on purpose. `code` is stable and machine-readable; its status is the catalogue's. */
export class AppError extends Error {
  readonly status: number;

  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: readonly ErrorDetail[],
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = new.target.name;
    this.status = statusOf(code);
  }
}

export class ConfigError extends AppError {
  constructor(readonly problems: readonly string[]) {
    super('invalid_configuration', `Invalid configuration:\n  - ${problems.join('\n  - ')}`);
  }
}

export class UnauthorizedError extends AppError {
  constructor() {
    super('unauthorized', 'Missing or invalid credential in the Authorization header');
  }
}

export class InvalidRequestError extends AppError {
  constructor(message: string, details?: readonly ErrorDetail[]) {
    super('invalid_request', message, details);
  }
}

/** Spec: an unsupported type is a 400. The supported items of the same batch were enqueued before this is thrown. */
export class UnsupportedTokenTypeError extends AppError {
  constructor(details: readonly ErrorDetail[], accepted: number) {
    super(
      'unsupported_token_type',
      `${details.length} item(s) have a token type this service cannot revoke; the other ${accepted} item(s) were accepted`,
      details,
    );
  }
}

/** Redis did not acknowledge in time: nothing of the request is reported as accepted. */
export class StoreUnavailableError extends AppError {
  constructor(cause: unknown) {
    super('store_unavailable', 'The job store is unavailable; retry shortly', undefined, { cause });
  }
}
