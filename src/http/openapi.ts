// The OpenAPI 3.1 description of every endpoint, built at start-up from schemas/ (each JSON Schema embedded as it is,
// under components.schemas: the files stay the single source of every body's shape) and served at GET /openapi.json.
// What is described here is the rest: paths, statuses, headers, security. The contract test checks every answer of
// the real service against this document, and fails for a status it does not list.
import { readFileSync } from 'node:fs';
import type { ErrorCode } from '../error-codes.js';
import { packageVersion, schemaPath } from '../paths.js';

type Json = Record<string, unknown>;

/** The files of schemas/ the document embeds, by component name. */
export const EMBEDDED_SCHEMAS: Readonly<Record<string, string>> = {
  RevokeTokensRequest: 'revoke-tokens-request.schema.json',
  RevocableTokenTypesResponse: 'revocable-token-types-response.schema.json',
  ErrorResponse: 'error-response.schema.json',
  AdminReplayRequest: 'admin-replay.schema.json',
  AdminReplayQueued: 'admin-replay-queued.schema.json',
  AdminReplayRun: 'admin-replay-run.schema.json',
  AdminResolveRequest: 'admin-resolve.schema.json',
  Liveness: 'liveness-response.schema.json',
  Readiness: 'readiness-response.schema.json',
  Status: 'admin-status-response.schema.json',
  FailedList: 'admin-failed-response.schema.json',
  TokenView: 'token-view.schema.json',
  AuditEntries: 'admin-audit-response.schema.json',
  Paused: 'admin-paused-response.schema.json',
};

const ref = (name: string): Json => ({ $ref: `#/components/schemas/${name}` });
const json = (schema: Json): Json => ({ 'application/json': { schema } });

/** An error answer whose `error` is one of `codes`. */
function error(description: string, codes: readonly ErrorCode[], headers?: Json): Json {
  return {
    description,
    ...(headers ? { headers } : {}),
    content: json({ allOf: [ref('ErrorResponse'), { type: 'object', properties: { error: { enum: [...codes] } } }] }),
  };
}

const header = (description: string, schema: Json = { type: 'string' }): Json => ({ description, required: true, schema });
const ALLOW = { Allow: header('The methods this path allows') };
const RETRY_AFTER = { 'Retry-After': header('Seconds to wait before retrying', { type: 'string', pattern: '^[0-9]+$' }) };
const CHALLENGE = { 'WWW-Authenticate': header('`Basic realm="trapi admin", charset="UTF-8"`: browsers ask for the admin credential') };

const methodNotAllowed = error('Another method; `Allow` lists those this path takes', ['method_not_allowed'], ALLOW);
const unauthorized = error('Missing or wrong credential', ['unauthorized']);
const adminUnauthorized = error('Missing or wrong admin credential', ['unauthorized'], CHALLENGE);
const rateLimited = error('Over the per-client budget (`RATE_LIMIT_PER_MINUTE` for POST, `RATE_LIMIT_GET_PER_MINUTE` for GET), shared by all replicas', ['rate_limited'], {
  ...RETRY_AFTER,
  'RateLimit-Limit': header('The budget per minute', { type: 'string', pattern: '^[0-9]+$' }),
  'RateLimit-Remaining': header('What is left of it', { type: 'string', pattern: '^[0-9]+$' }),
  'RateLimit-Reset': header('Seconds until it is renewed', { type: 'string', pattern: '^[0-9]+$' }),
});
const storeUnavailable = error('Redis did not acknowledge within a few seconds, or the request bodies in flight already fill the memory kept for them (`busy`); nothing of the request is reported as accepted', ['store_unavailable', 'busy'], RETRY_AFTER);
const badAdminBody = error('The body is not JSON, or does not match its schema; a query parameter is malformed', ['invalid_request', 'invalid_json', 'invalid_encoding']);
const notJson = error('`Content-Type` is not `application/json`', ['unsupported_media_type']);
const notFound = (what: string) => error(what, ['not_found']);
const ambiguous = error('The fingerprint prefix matches more than one token', ['ambiguous_fingerprint']);

const ADMIN_SECURITY = [{ adminBearer: [] }, { adminBasic: [] }];
const FINGERPRINT = { name: 'fingerprint', in: 'path', required: true, description: 'A full fingerprint (SHA-256 hex of the token) or a unique prefix of at least 8 hex characters', schema: { type: 'string', pattern: '^[0-9a-fA-F]{8,64}$' } };
const query = (name: string, description: string): Json => ({ name, in: 'query', required: false, description, schema: { type: 'string' } });

function embedded(): Record<string, Json> {
  return Object.fromEntries(Object.entries(EMBEDDED_SCHEMAS).map(([name, file]) => [name, JSON.parse(readFileSync(schemaPath(file), 'utf8')) as Json]));
}

let built: Json | undefined;

/** The document (built once per process: the schema files do not change while it runs). */
export function openApiDocument(): Json {
  built ??= build();
  return built;
}

function build(): Json {
  const admin = (summary: string, responses: Json, extra: Json = {}): Json => ({ summary, tags: ['admin'], security: ADMIN_SECURITY, ...extra, responses: { ...responses, '401': adminUnauthorized } });
  const adminGet = (summary: string, ok: Json, more: Json = {}, extra: Json = {}) => ({ get: admin(summary, { '200': ok, ...more }, extra) });
  const adminPost = (summary: string, ok: Record<string, Json>, more: Json = {}, extra: Json = {}) => ({ post: admin(summary, { ...ok, ...more }, extra) });
  const answer = (description: string, schema: Json): Json => ({ description, content: json(schema) });
  const wrongMethod = { '405': methodNotAllowed };

  return {
    openapi: '3.1.0',
    info: {
      title: 'Token Revocation API',
      version: packageVersion(),
      description:
        "GitLab's secret detection POSTs leaked tokens to `/v1/revoke_tokens`; they are queued durably and revoked at their provider. Every error answer is `ErrorResponse` and never echoes a token. Paths are exact (strict, case-sensitive routing). See README.md, API and Admin API.",
      license: { name: 'MIT', identifier: 'MIT' },
    },
    tags: [
      { name: 'gitlab', description: "What GitLab calls (GitLab's Token Revocation API contract)" },
      { name: 'health', description: 'Probes and metrics, served by every role' },
      { name: 'admin', description: 'For on-call, when ADMIN_API_TOKENS is set (otherwise every /admin/ path is 404)' },
    ],
    paths: {
      '/v1/revocable_token_types': {
        get: {
          summary: 'The token types this service revokes',
          tags: ['gitlab'],
          security: [{ gitlabToken: [] }, { bearerToken: [] }],
          responses: {
            '200': answer('Every type string the enabled providers handle, sorted and unique', ref('RevocableTokenTypesResponse')),
            '401': unauthorized,
            '405': methodNotAllowed,
            '429': rateLimited,
          },
        },
      },
      '/v1/revoke_tokens': {
        post: {
          summary: 'Queue leaked tokens for revocation',
          tags: ['gitlab'],
          security: [{ gitlabToken: [] }, { bearerToken: [] }],
          requestBody: { required: true, content: json(ref('RevokeTokensRequest')) },
          responses: {
            '204': { description: 'Every token was durably queued (`[]` too)' },
            '400': error(
              '`invalid_json`: not JSON, or a bare scalar. `invalid_encoding`: not valid UTF-8. `invalid_request`: wrong shape, a bound broken, a forbidden key or character (`details` names each bad item, never its value); nothing is queued. `unsupported_token_type`: **partial accept**, every supported item *was* queued; `details` lists the others (`index`, `type`)',
              ['invalid_json', 'invalid_encoding', 'invalid_request', 'unsupported_token_type'],
            ),
            '401': unauthorized,
            '405': methodNotAllowed,
            '413': error('Body over `MAX_BODY_BYTES`', ['payload_too_large']),
            '415': error('`Content-Type` is not `application/json`, or the charset is not UTF-8', ['unsupported_media_type']),
            '429': rateLimited,
            '503': storeUnavailable,
          },
        },
      },
      '/-/liveness': { get: { summary: 'The process runs', tags: ['health'], security: [], responses: { '200': answer('Alive', ref('Liveness')), ...wrongMethod } } },
      '/-/readiness': {
        get: {
          summary: 'Redis answers and (roles with a worker) the worker runs',
          tags: ['health'],
          security: [],
          responses: { '200': answer('Ready (`degraded`: ready, but a credential or breaker needs on-call)', ref('Readiness')), '503': answer('Not ready: the failing check', ref('Readiness')), ...wrongMethod },
        },
      },
      '/metrics': {
        get: {
          summary: 'Prometheus metrics of this process',
          tags: ['health'],
          security: [{}, { metricsBearer: [] }],
          description: 'Open unless METRICS_TOKEN is set; then `Authorization: Bearer <METRICS_TOKEN>`.',
          responses: { '200': { description: 'Prometheus text format', content: { 'text/plain': { schema: { type: 'string' } } } }, '401': unauthorized, ...wrongMethod },
        },
      },
      '/openapi.json': {
        get: { summary: 'This document', tags: ['health'], security: [], responses: { '200': { description: 'OpenAPI 3.1', content: json({ type: 'object', required: ['openapi', 'paths'] }) }, ...wrongMethod } },
      },
      '/admin/status': adminGet('Job counts per queue and state, oldest waiting age, breakers, workers, paused', answer('Status', ref('Status')), wrongMethod),
      '/admin/failed': adminGet('Failed tokens, with why they failed', answer('Failed tokens, filtered', ref('FailedList')), { '400': badAdminBody, ...wrongMethod }, {
        parameters: [query('type', 'Exact type'), query('instance', 'Exact instance name'), query('reason', 'Prefix of the failed reason, e.g. `http_400`'), query('since', 'ISO time or epoch ms')],
      }),
      '/admin/tokens/{fingerprint}': adminGet("A token's record and its job's state", answer('The record', ref('TokenView')), { '400': badAdminBody, '404': notFound('No token record has this fingerprint'), '409': ambiguous, ...wrongMethod }, {
        parameters: [FINGERPRINT],
      }),
      '/admin/tokens/{fingerprint}/resolve': adminPost(
        'Settle a failed token without revoking it',
        { '200': answer('The record, now resolved', ref('TokenView')) },
        { '400': badAdminBody, '404': notFound('No token record has this fingerprint'), '409': error('Not in the failed set, or an ambiguous prefix', ['not_failed', 'ambiguous_fingerprint']), '415': notJson, ...wrongMethod },
        { parameters: [FINGERPRINT], requestBody: { required: true, content: json(ref('AdminResolveRequest')) } },
      ),
      '/admin/replay': adminPost(
        'Requeue failed tokens with fresh attempts and retry horizon',
        {
          '200': answer('`fingerprint`: that one token, requeued', ref('AdminReplayQueued')),
          '202': {
            description: '`filter` or `all`: the replay runs in the background; poll `Location`',
            headers: { Location: header('`/admin/replays/{id}`', { type: 'string', pattern: '^/admin/replays/[0-9a-f-]{36}$' }) },
            content: json(ref('AdminReplayRun')),
          },
        },
        { '400': badAdminBody, '404': notFound('No token record has this fingerprint'), '409': error('Not in the failed set, or an ambiguous prefix', ['not_failed', 'ambiguous_fingerprint']), '415': notJson, ...wrongMethod },
        { requestBody: { required: true, content: json(ref('AdminReplayRequest')) } },
      ),
      '/admin/replays/{id}': adminGet('A background replay: its progress, and once done how many it queued', answer('The replay', ref('AdminReplayRun')), { '404': notFound('No replay has this id (kept a day)'), ...wrongMethod }, {
        parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }],
      }),
      '/admin/audit': adminGet('The audit trail, newest first', answer('Entries', ref('AuditEntries')), { '400': badAdminBody, '404': notFound('No token record starts with this prefix'), ...wrongMethod }, {
        parameters: [query('fingerprint', 'A fingerprint or unique prefix'), query('since', 'ISO time or epoch ms'), query('limit', '1 to 1000 (default 100)')],
      }),
      '/admin/pause': adminPost('Stop starting revocation jobs (accepted tokens keep being queued)', { '200': answer('Paused', ref('Paused')) }, wrongMethod),
      '/admin/resume': adminPost('Start revocation jobs again', { '200': answer('Resumed', ref('Paused')) }, wrongMethod),
    },
    components: {
      securitySchemes: {
        gitlabToken: { type: 'apiKey', in: 'header', name: 'Authorization', description: "One of REVOCATION_API_TOKENS, raw (GitLab's form, no `Bearer`). Very old GitLab versions' `X-Gitlab-Token` / `X-Token` headers are accepted too." },
        bearerToken: { type: 'http', scheme: 'bearer', description: 'One of REVOCATION_API_TOKENS as `Bearer <token>`' },
        metricsBearer: { type: 'http', scheme: 'bearer', description: 'METRICS_TOKEN, when set' },
        adminBearer: { type: 'http', scheme: 'bearer', description: 'One of ADMIN_API_TOKENS (never a REVOCATION_API_TOKENS token)' },
        adminBasic: { type: 'http', scheme: 'basic', description: 'HTTP Basic with one of ADMIN_API_TOKENS as the password (any user name), as a browser sends it' },
      },
      schemas: embedded(),
    },
  };
}
