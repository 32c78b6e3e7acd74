// GitHub's answers for the routes the provider uses, from GitHub's REST docs: /credentials/revoke, /user, /installation/*.
import type { IncomingHttpHeaders } from 'node:http';
import type { Route } from './faults.js';
import { type HourlyLimit, rateLimitHeaders } from './ratelimit.js';
import type { TokenStore } from './store.js';
import { isInstallation, isRevocableByList } from './tokens.js';

export type Mode = 'dotcom' | 'ghes';

export interface Reply {
  readonly status: number;
  readonly body?: unknown;
  readonly headers?: Readonly<Record<string, string>>;
}

/** What one POST /credentials/revoke looked like: the tests' view of batching. */
export interface RevokeCall {
  readonly at: number;
  readonly status: number;
  readonly count: number;
  readonly authenticated: boolean;
  /** The tokens sent; kept only in this process's memory, for the test that started the simulator. */
  readonly credentials: readonly string[];
}

export interface SimContext {
  readonly store: TokenStore;
  readonly limit: HourlyLimit;
  mode: Mode;
  adminToken: string;
  revokeDelayMs: number;
  /** What an exceeded hourly limit answers: GitHub uses both. */
  rateLimitStatus: 403 | 429;
  installationDelayMs: number;
}

const DOCS = 'https://docs.github.com/rest';
const message = (status: number, text: string, extra: object = {}): Reply => ({ status, body: { message: text, documentation_url: DOCS, ...extra } });
export const BAD_CREDENTIALS = message(401, 'Bad credentials');
export const NOT_FOUND = message(404, 'Not Found');

/** `Authorization: Bearer X` or `token X`, as GitHub accepts both. */
export function bearerOf(headers: IncomingHttpHeaders): string | undefined {
  const m = /^(?:bearer|token)\s+(\S+)$/i.exec(headers.authorization ?? '');
  return m?.[1];
}

export function matchRoute(method: string, path: string): Route | undefined {
  if (method === 'POST' && path === '/credentials/revoke') return 'revoke';
  if (method === 'GET' && path === '/user') return 'user';
  if (method === 'DELETE' && path === '/installation/token') return 'installation_token';
  if (method === 'GET' && path === '/installation/repositories') return 'installation_repositories';
  return undefined;
}

export function revoke(ctx: SimContext, headers: IncomingHttpHeaders, body: unknown, now = Date.now()): Reply {
  const credentials = credentialList(body);
  const auth = authenticate(ctx, headers);
  if (auth) return auth;
  const { allowed, headers: rl } = ctx.limit.hit(now);
  if (!allowed) return { ...message(ctx.rateLimitStatus, 'API rate limit exceeded for 127.0.0.1.'), headers: rl };
  if (!credentials || credentials.length === 0 || credentials.length > 1000 || !credentials.every(isRevocableByList)) {
    return { ...message(422, 'Validation Failed', { errors: [{ resource: 'Credential', field: 'credentials', code: 'invalid' }], status: '422' }), headers: rl };
  }
  for (const token of credentials) ctx.store.revoke(token, ctx.revokeDelayMs, now);
  return { status: 202, body: {}, headers: rl };
}

/** dotcom: the endpoint must be called without a credential. GHES: it needs the admin's. Undefined when fine. */
function authenticate(ctx: SimContext, headers: IncomingHttpHeaders): Reply | undefined {
  const bearer = bearerOf(headers);
  if (ctx.mode === 'dotcom') return headers.authorization === undefined ? undefined : message(403, 'This endpoint must be called without authentication.');
  if (bearer === undefined) return message(401, 'Requires authentication');
  return bearer === ctx.adminToken ? undefined : BAD_CREDENTIALS;
}

export function credentialList(body: unknown): string[] | undefined {
  const list = typeof body === 'object' && body !== null ? (body as Record<string, unknown>)['credentials'] : undefined;
  return Array.isArray(list) && list.every((c) => typeof c === 'string') ? (list as string[]) : undefined;
}

export function user(ctx: SimContext, headers: IncomingHttpHeaders): Reply {
  const bearer = bearerOf(headers);
  if (bearer === undefined) return message(401, 'Requires authentication');
  if (ctx.mode === 'ghes' && bearer === ctx.adminToken) return { status: 200, body: { login: 'ghes-admin', id: 1, site_admin: true } };
  const rec = ctx.store.live(bearer);
  // A refresh token is not an access token: it never authenticates, alive or not.
  if (!rec || rec.prefix === 'ghr_') return BAD_CREDENTIALS;
  if (isInstallation(rec.prefix)) return message(403, 'Resource not accessible by integration');
  return { status: 200, body: { login: rec.login, id: 1000 + Number(rec.login.slice(4)), type: 'User' } };
}

export function deleteInstallationToken(ctx: SimContext, headers: IncomingHttpHeaders, now = Date.now()): Reply {
  const bearer = bearerOf(headers);
  const rec = bearer === undefined ? undefined : ctx.store.live(bearer, now);
  if (!bearer || !rec || rec.prefix === 'ghr_') return bearer ? BAD_CREDENTIALS : message(401, 'Requires authentication');
  if (!isInstallation(rec.prefix)) return message(403, 'Resource not accessible by personal access token');
  ctx.store.revoke(bearer, ctx.installationDelayMs, now);
  return { status: 204 };
}

export function installationRepositories(ctx: SimContext, headers: IncomingHttpHeaders): Reply {
  const bearer = bearerOf(headers);
  const rec = bearer === undefined ? undefined : ctx.store.live(bearer);
  if (!rec || rec.prefix === 'ghr_') return bearer ? BAD_CREDENTIALS : message(401, 'Requires authentication');
  if (!isInstallation(rec.prefix)) return message(403, 'Resource not accessible by personal access token');
  return { status: 200, body: { total_count: 1, repository_selection: 'selected', repositories: [{ id: 1, full_name: 'octo-org/octo-repo' }] } };
}

/** A fault's answer, shaped as GitHub's own. */
export function faultReply(action: { type: 'status'; status: number } | { type: 'rate_limit'; status: 403 | 429; resetInMs?: number; retryAfterSeconds?: number } | { type: 'spammed' }, now = Date.now()): Reply {
  if (action.type === 'status') return message(action.status, action.status === 500 ? 'Server Error' : `Simulated ${action.status}`);
  if (action.type === 'spammed') return message(422, 'Validation failed, or the endpoint has been spammed.');
  const headers: Record<string, string> = { ...rateLimitHeaders(60, 60, now + (action.resetInMs ?? 1000)) };
  if (action.retryAfterSeconds !== undefined) headers['retry-after'] = String(action.retryAfterSeconds);
  return { ...message(action.status, action.retryAfterSeconds === undefined ? 'API rate limit exceeded for 127.0.0.1.' : 'You have exceeded a secondary rate limit. Please wait a few minutes before you try again.'), headers };
}

