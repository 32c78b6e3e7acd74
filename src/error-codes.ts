// The closed set of error codes: every `AppError` and every HTTP error answer names one of these, with its status.
// The README's error table is generated from this list (`npm run error-table`) and checked against it by a test.

export interface ErrorCodeSpec {
  /** The HTTP status of the answer. None for a code only the CLI or start-up reports (should one reach the edge: 500). */
  readonly status?: number;
  /** One line: when the code is raised. */
  readonly meaning: string;
}

const CATALOGUE = {
  // Refused before a route: Node's HTTP parser and body-parser.
  bad_request: { status: 400, meaning: 'Node\'s HTTP parser refused the request (a malformed request line or header, conflicting `Content-Length`s); the connection is closed.' },
  request_timeout: { status: 408, meaning: 'The headers (10 s) or the whole request (30 s) did not arrive in time; the connection is closed.' },
  header_too_large: { status: 431, meaning: 'The request line and headers exceed 16 KiB; the connection is closed.' },
  payload_too_large: { status: 413, meaning: 'The body is over `MAX_BODY_BYTES`, or its chunk extensions are oversized.' },
  invalid_json: { status: 400, meaning: 'The body is not valid JSON (or is a bare scalar).' },
  invalid_encoding: { status: 400, meaning: 'The body is not valid UTF-8.' },
  unsupported_media_type: { status: 415, meaning: '`Content-Type` is not `application/json`, the charset is not UTF-8, or the `Content-Encoding` is unsupported.' },
  request_aborted: { status: 400, meaning: 'The client aborted the request while its body was being read.' },
  // Routing, credentials, budgets.
  not_found: { status: 404, meaning: 'No such endpoint, or no token record (or replay) has the fingerprint (or id) given.' },
  method_not_allowed: { status: 405, meaning: 'The path does not take this method; `Allow` lists those it takes.' },
  unauthorized: { status: 401, meaning: 'Missing or wrong credential in `Authorization`.' },
  rate_limited: { status: 429, meaning: 'Over the per-client budget per minute; carries `Retry-After` and `RateLimit-*`.' },
  // The request itself.
  invalid_request: { status: 400, meaning: 'The body or a query parameter breaks its schema or a bound; `details` names each bad item, never its value.' },
  unsupported_token_type: { status: 400, meaning: 'Some items have a type no enabled provider revokes; the other items of the batch were queued.' },
  ambiguous_fingerprint: { status: 409, meaning: 'The fingerprint prefix matches more than one token; give more characters.' },
  not_failed: { status: 409, meaning: 'The token is not in the failed set: nothing to replay or resolve.' },
  feedback_off: { status: 409, meaning: 'Vulnerability feedback is off on this service: no feedback job to retry (`trapi feedback retry`).' },
  // The service.
  busy: { status: 503, meaning: 'The request bodies this process holds already fill its share of memory for them (a body alone is always taken); carries `Retry-After`, nothing of the request is accepted.' },
  store_unavailable: { status: 503, meaning: 'Redis did not acknowledge within a few seconds; carries `Retry-After`, nothing of the request is accepted.' },
  internal_error: { status: 500, meaning: 'An unexpected error; the request was not accepted (the log has the cause\'s class, never its message).' },
  // Never an HTTP answer: the CLI prints them (exit 1, or 2 for configuration), start-up logs them and exits.
  invalid_configuration: { meaning: 'The environment (or an encryption key in it) is invalid; the message names each offending variable.' },
  decryption_failed: { meaning: 'A sealed token cannot be opened: its key is no longer configured, or the ciphertext fails authentication.' },
  redis_missing: { meaning: 'Embedded Redis was asked for (no `REDIS_URL`) but no `redis-server` is on `PATH`.' },
  redis_failed: { meaning: 'The embedded `redis-server` did not start; its log is in `DATA_DIR`.' },
  redis_unknown: { meaning: 'The CLI found no `REDIS_URL` and no embedded Redis recorded under `DATA_DIR`.' },
  redis_unreachable: { meaning: 'The CLI cannot reach the Redis of the service.' },
} satisfies Record<string, ErrorCodeSpec>;

/** A code of the catalogue: a string outside it fails typecheck. */
export type ErrorCode = keyof typeof CATALOGUE;

export const ERROR_CODES: Readonly<Record<ErrorCode, ErrorCodeSpec>> = CATALOGUE;

/** The status an error of this code answers with at the HTTP edge. */
export const statusOf = (code: ErrorCode): number => ERROR_CODES[code].status ?? 500;

/** The README's table of error codes (`npm run error-table` prints it). */
export function errorTable(): string {
  const rows = Object.entries(ERROR_CODES).map(([code, spec]) => `| \`${code}\` | ${spec.status === undefined ? '(not HTTP)' : `\`${String(spec.status)}\``} | ${spec.meaning} |`);
  return ['| code | status | meaning |', '|---|---|---|', ...rows].join('\n');
}
