// What every GitLab route handler receives: the token store and the instance's switchable behaviour.
import type { Reply, Request } from '../http.js';
import type { TokenStore } from '../state.js';
import type { VulnerabilityStore } from '../vulnerabilities.js';

/**
 * enabled: the Admin Token API works (17.8+ with the revoke flag on).
 * flag_disabled: identify works, DELETE answers the `api_admin_token_revoke` 404.
 * absent: a GitLab too old to have the API, so both routes are Grape's plain 404.
 */
export type AdminApiMode = 'enabled' | 'flag_disabled' | 'absent';

export const ADMIN_API_MODES: readonly AdminApiMode[] = ['enabled', 'flag_disabled', 'absent'];

export interface Settings {
  adminApiMode: AdminApiMode;
  /** What admin DELETE does to a runner token: reset (docs, code) or delete (the original MR). */
  runnerAdminAction: 'reset' | 'delete';
}

export interface SimContext {
  store: TokenStore;
  vulnerabilities: VulnerabilityStore;
  settings: Settings;
}

export type Handler = (req: Request, ctx: SimContext) => Reply;

export interface Route {
  method: string;
  /** The pattern as logged and counted, e.g. `/api/v4/groups/:id/tokens/revoke`. */
  pattern: string;
  handler: Handler;
}

/** Grape's answer for a route that does not exist. */
export const NOT_FOUND: Reply = { status: 404, body: { error: '404 Not Found' } };
