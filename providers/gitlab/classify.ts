// The one function that turns any GitLab answer, or a network failure, into a verdict the providers act on.
import type { Answer } from './client.js';
import { NETWORK_CODES } from '../http-client.js';
import { asObject } from '../json.js';

export type Verdict =
  | 'ok'
  /** The host knows the token's kind but has no such token. */
  | 'not_found'
  /** This endpoint cannot serve us here (feature flag off, endpoint absent, kind unsupported). */
  | 'unavailable'
  | 'rate_limited'
  | 'transient'
  | 'credential_rejected'
  | 'permanent';

export interface Classified {
  readonly verdict: Verdict;
  /** Stable, machine-readable reason (e.g. `admin_api_flag_disabled`, `http_503`, `ETIMEDOUT`). */
  readonly reason: string;
  /** Sanitized summary of the answer, for records and logs. */
  readonly summary: string;
  readonly retryAfterMs?: number;
  /** The parsed JSON body, when there was one. */
  readonly json?: unknown;
}


/** `secrets` (the leaked token, our credential) are scrubbed from the summary should the host ever echo them. */
export function classify(answer: Answer | Error, secrets: readonly string[] = []): Classified {
  if (answer instanceof Error) return classifyError(answer);
  const json = parseJson(answer.body);
  const summary = scrub(`${answer.status} ${describe(json, answer.body)}`.trim(), secrets);
  const base = { summary, ...(json === undefined ? {} : { json }) };
  const { status } = answer;
  if (status >= 200 && status < 300) return { verdict: 'ok', reason: `http_${status}`, ...base };
  if (status === 429) return { verdict: 'rate_limited', reason: 'http_429', ...base, ...retryAfter(answer.headers) };
  if (status === 401) return { verdict: 'credential_rejected', reason: credentialReason(json), ...base };
  if (status === 403) return { verdict: 'credential_rejected', reason: forbiddenReason(json), ...base };
  if (status === 404) return classify404(json, base);
  if (status === 422 && /not supported/i.test(describe(json, answer.body))) return { verdict: 'unavailable', reason: 'token_type_not_supported', ...base };
  if (status === 408 || status >= 500) return { verdict: 'transient', reason: `http_${status}`, ...base };
  return { verdict: 'permanent', reason: `http_${status}`, ...base };
}

function classify404(json: unknown, base: { summary: string }): Classified {
  const message = field(json, 'message');
  if (typeof message === 'string' && /feature flag/i.test(message)) return { verdict: 'unavailable', reason: 'admin_api_flag_disabled', ...base };
  // Grape's answer for a route that does not exist: an older GitLab without this endpoint.
  if (message === undefined && typeof field(json, 'error') === 'string') return { verdict: 'unavailable', reason: 'endpoint_absent', ...base };
  return { verdict: 'not_found', reason: 'not_found', ...base };
}

function classifyError(err: Error): Classified {
  const code = (err as { code?: unknown }).code;
  const reason = typeof code === 'string' ? code : err.name;
  // Unknown failures are retried too: the retry horizon bounds them, and failing a revocation early is worse.
  return { verdict: 'transient', reason, summary: NETWORK_CODES.has(reason) || err.name === 'TimeoutError' ? `network: ${reason}` : `error: ${reason}` };
}

function credentialReason(json: unknown): string {
  const d = String(field(json, 'error_description') ?? '');
  if (/expired/i.test(d)) return 'credential_expired';
  if (/revoked/i.test(d)) return 'credential_revoked';
  return 'credential_invalid';
}

const forbiddenReason = (json: unknown): string => (field(json, 'error') === 'insufficient_scope' ? 'insufficient_scope' : 'forbidden');

/** Retry-After (seconds or HTTP date), else RateLimit-Reset (epoch seconds), else nothing: the caller backs off. */
export function retryAfter(headers: Answer['headers'], now = Date.now()): { retryAfterMs?: number } {
  const ra = header(headers, 'retry-after');
  if (ra !== undefined) {
    const seconds = Number(ra);
    const ms = Number.isFinite(seconds) ? seconds * 1000 : Date.parse(ra) - now;
    if (Number.isFinite(ms)) return { retryAfterMs: Math.max(0, ms) };
  }
  const reset = Number(header(headers, 'ratelimit-reset'));
  if (Number.isFinite(reset) && reset > 0) {
    // GitLab sends epoch seconds; small values are read as a delay in seconds (the IETF draft's form).
    return { retryAfterMs: Math.max(0, reset > 1e9 ? reset * 1000 - now : reset * 1000) };
  }
  return {};
}

const header = (headers: Answer['headers'], name: string): string | undefined => {
  const v = headers[name];
  return Array.isArray(v) ? v[0] : v;
};

function parseJson(body: string): unknown {
  if (body.length === 0) return undefined;
  try {
    return JSON.parse(body) as unknown;
  } catch {
    return undefined;
  }
}

const field = (json: unknown, name: string): unknown => asObject(json)?.[name];

/** `message` may be a string or an object; OAuth errors use `error`/`error_description`; some bodies are empty or text. */
function describe(json: unknown, body: string): string {
  const message = field(json, 'message');
  const parts = [
    typeof message === 'string' ? message : message === undefined ? undefined : JSON.stringify(message),
    field(json, 'error'),
    field(json, 'error_description'),
  ].filter((p): p is string => typeof p === 'string' && p.length > 0);
  const text = parts.length > 0 ? parts.join(': ') : json === undefined ? body : '';
  return text.replace(/\s+/g, ' ').slice(0, 200);
}

function scrub(text: string, secrets: readonly string[]): string {
  return secrets.reduce((t, s) => (s.length > 0 ? t.split(s).join('[redacted]') : t), text);
}
