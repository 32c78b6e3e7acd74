// The one function that turns any answer of auth.revoke, or a network failure, into an Outcome.
import type { Outcome } from '../../src/domain/outcome.js';
import type { SlackAnswer } from './client.js';
import { ANSWER_LOST } from '../http-client.js';
import { parseObject } from '../json.js';

export const VIA = 'auth_revoke';

/**
 * Slack refuses the token itself: it does not work. (`invalid_auth` can also mean "not from an allowed IP" for a
 * token restricted to some addresses; nothing in the answer tells them apart.) Not `not_authed`: Slack saw no token,
 * which says nothing about the token and everything about our request: a permanent `slack_not_authed` for on-call.
 */
export const GONE_ERRORS: ReadonlySet<string> = new Set(['invalid_auth', 'token_revoked', 'account_inactive', 'token_expired']);

/** Slack's own "try again": failures on its side and workspace migrations (common errors of every Web API method). */
export const RETRYABLE_ERRORS: ReadonlySet<string> = new Set(['internal_error', 'fatal_error', 'request_timeout', 'service_unavailable', 'team_added_to_org', 'org_login_required']);

/** Slack's docs for these: "it's possible some aspect of the operation succeeded before the error was raised". */
const MAY_HAVE_REVOKED: ReadonlySet<string> = new Set(['internal_error', 'fatal_error']);


export interface Subject {
  /** A refresh token: Slack refusing it proves nothing, so "already gone" is recorded unconfirmed. */
  readonly refresh: boolean;
}

export function classify(answer: SlackAnswer | Error, subject: Subject = { refresh: false }): Outcome {
  if (answer instanceof Error) return networkFailure(answer);
  const { status } = answer;
  if (status === 429) return { status: 'rate_limited', ...retryAfter(answer.headers), summary: `429 ${errorOf(parseObject(answer.body)) ?? 'ratelimited'}` };
  if (status === 408 || status >= 500) return { status: 'transient', reason: `http_${status}`, summary: `${status} ${errorOf(parseObject(answer.body)) ?? ''}`.trim() };
  if (status < 200 || status >= 300) return { status: 'permanent', reason: `http_${status}`, summary: `${status} ${errorOf(parseObject(answer.body)) ?? ''}`.trim() };
  const json = parseObject(answer.body);
  if (json === undefined) return { status: 'transient', reason: 'non_json_answer', summary: `${status} not a JSON object` };
  if (json['ok'] === true) {
    if (json['revoked'] === true) return { status: 'revoked', via: VIA, confirmed: true };
    return { status: 'transient', reason: 'not_revoked', summary: `${status} ok, revoked: ${String(json['revoked'] ?? 'absent')}` };
  }
  return apiError(errorOf(json) ?? 'unknown_error', answer, subject);
}

function apiError(error: string, answer: SlackAnswer, subject: Subject): Outcome {
  const summary = `${answer.status} ${error}`;
  if (GONE_ERRORS.has(error)) return { status: 'already_gone', via: VIA, confirmed: !subject.refresh };
  if (error === 'ratelimited') return { status: 'rate_limited', ...retryAfter(answer.headers), summary };
  if (RETRYABLE_ERRORS.has(error)) {
    const base = { status: 'transient', reason: `slack_${error}`, summary } as const;
    return MAY_HAVE_REVOKED.has(error) ? { ...base, lost: { status: 'revoked', via: VIA } } : base;
  }
  return { status: 'permanent', reason: `slack_${error}`, summary };
}

function networkFailure(err: Error): Outcome {
  const code = (err as { code?: unknown }).code;
  const reason = err.name === 'TimeoutError' ? 'TimeoutError' : typeof code === 'string' ? code : err.name;
  // Unknown failures are retried too: the retry horizon bounds them, and failing a revocation early is worse.
  const base = { status: 'transient', reason, summary: `network: ${reason}` } as const;
  return ANSWER_LOST.has(reason) ? { ...base, lost: { status: 'revoked', via: VIA } } : base;
}

/** Retry-After in seconds (Slack's form) or as an HTTP date; nothing when absent: the caller backs off. */
export function retryAfter(headers: SlackAnswer['headers'], now = Date.now()): { retryAfterMs: number | undefined } {
  const raw = headers['retry-after'];
  const value = Array.isArray(raw) ? raw[0] : raw;
  if (value === undefined || value.trim() === '') return { retryAfterMs: undefined };
  const seconds = Number(value);
  const ms = Number.isFinite(seconds) ? seconds * 1000 : Date.parse(value) - now;
  return { retryAfterMs: Number.isFinite(ms) ? Math.max(0, Math.ceil(ms)) : undefined };
}


/** Only Slack's `error` code is ever read into a summary or reason, and only when it looks like one (never an echo). */
function errorOf(json: Record<string, unknown> | undefined): string | undefined {
  const e = json?.['error'];
  return typeof e === 'string' && /^[a-z0-9_]{1,64}$/.test(e) ? e : undefined;
}
