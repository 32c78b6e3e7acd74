// The one function that turns any GitHub answer, or a network failure, into a verdict the provider acts on.
import { ANY_TOKEN } from './kinds.js';
import type { Answer } from './client.js';
import { NETWORK_CODES } from '../http-client.js';
import { parseObject } from '../json.js';

export type Verdict =
  | 'ok'
  /** 401: the credential sent (the leaked token, or ours) does not authenticate. */
  | 'unauthorized'
  /** 403 without rate-limit signs: authenticated (or sent where no credential is wanted) but not allowed. */
  | 'forbidden'
  /** 403 or 429 that GitHub means as "slow down": never a credential failure. */
  | 'rate_limited'
  /** 422: "Validation failed, or the endpoint has been spammed". */
  | 'validation_failed'
  | 'transient'
  | 'unexpected';

export interface Classified {
  readonly verdict: Verdict;
  /** Stable, machine-readable reason, e.g. `http_401`, `secondary_rate_limit`, `ETIMEDOUT`. */
  readonly reason: string;
  /** Status and GitHub's `message`, truncated and scrubbed: safe for records and logs. */
  readonly summary: string;
  readonly retryAfterMs?: number;
}

/** GitHub's advice when a rate limit names no time: wait at least a minute. */
export const DEFAULT_RATE_LIMIT_WAIT_MS = 60_000;

/** `secrets` are scrubbed from the summary, as is anything shaped like a GitHub token. */
export function classify(answer: Answer | Error, secrets: readonly string[] = [], now = Date.now()): Classified {
  if (answer instanceof Error) return classifyError(answer);
  const { status } = answer;
  // Scrubbed before it is truncated: a token cut in half would no longer be recognised.
  const summary = scrub(`${status} ${message(answer.body)}`.trim(), secrets).slice(0, 200);
  if (status >= 200 && status < 300) return { verdict: 'ok', reason: `http_${status}`, summary };
  const limited = rateLimit(answer, now);
  if (limited) return { verdict: 'rate_limited', summary, ...limited };
  if (status === 401) return { verdict: 'unauthorized', reason: 'http_401', summary };
  if (status === 403) return { verdict: 'forbidden', reason: 'http_403', summary };
  if (status === 422) return { verdict: 'validation_failed', reason: /spammed/i.test(summary) ? 'spammed' : 'validation_failed', summary };
  if (status === 408 || status >= 500) return { verdict: 'transient', reason: `http_${status}`, summary };
  return { verdict: 'unexpected', reason: `http_${status}`, summary };
}

/**
 * GitHub's rules ("Rate limits for the REST API"): a 403 or 429 is a rate limit when it carries `retry-after`, or
 * `x-ratelimit-remaining: 0`, or says "secondary rate limit". Wait `retry-after` seconds when given, else until
 * `x-ratelimit-reset` (epoch seconds), else at least a minute. Any 429 is a rate limit.
 */
export function rateLimit(answer: Answer, now = Date.now()): { reason: string; retryAfterMs: number } | undefined {
  if (answer.status !== 403 && answer.status !== 429) return undefined;
  const retryAfter = header(answer.headers, 'retry-after');
  const remaining = header(answer.headers, 'x-ratelimit-remaining');
  const secondary = /secondary rate limit/i.test(answer.body);
  if (answer.status === 403 && retryAfter === undefined && remaining !== '0' && !secondary) return undefined;
  const reason = secondary ? 'secondary_rate_limit' : `http_${answer.status}_rate_limit`;
  return { reason, retryAfterMs: waitFor(retryAfter, remaining === '0' ? header(answer.headers, 'x-ratelimit-reset') : undefined, now) };
}

function waitFor(retryAfter: string | undefined, reset: string | undefined, now: number): number {
  const seconds = Number(retryAfter);
  if (retryAfter !== undefined && Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const date = retryAfter === undefined ? NaN : Date.parse(retryAfter);
  if (Number.isFinite(date)) return Math.max(0, date - now);
  const epoch = Number(reset);
  // The reset is a whole second: wait until it has passed, not until it starts.
  if (reset !== undefined && Number.isFinite(epoch) && epoch > 0) return Math.max(0, epoch * 1000 - now) + 1000;
  return DEFAULT_RATE_LIMIT_WAIT_MS;
}


function classifyError(err: Error): Classified {
  const code = (err as { code?: unknown }).code;
  const reason = typeof code === 'string' ? code : err.name;
  // Unknown failures are retried too: the retry horizon bounds them, and failing a revocation early is worse.
  return { verdict: 'transient', reason, summary: NETWORK_CODES.has(reason) || err.name === 'TimeoutError' ? `network: ${reason}` : `error: ${reason}` };
}

const header = (headers: Answer['headers'], name: string): string | undefined => {
  const v = headers[name];
  return Array.isArray(v) ? v[0] : v;
};

/** GitHub's JSON errors carry `message`; anything else is summarised by its status alone (it could echo a token). */
function message(body: string): string {
  const m = parseObject(body)?.['message'];
  return typeof m === 'string' ? m.replace(/\s+/g, ' ').slice(0, 10_000) : '';
}

function scrub(text: string, secrets: readonly string[]): string {
  const named = secrets.reduce((t, s) => (s.length > 0 ? t.split(s).join('[redacted]') : t), text);
  return named.replace(ANY_TOKEN, '[redacted]');
}
