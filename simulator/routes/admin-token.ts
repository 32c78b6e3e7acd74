// The Admin Token API: POST (identify) and DELETE (revoke/reset/delete) /api/v4/admin/token.
import { empty, json, type Reply, type Request, stringParam } from '../http.js';
import type { TokenRecord } from '../state.js';
import { type AdminAction, parseToken } from '../tokens.js';
import { authenticate } from './auth.js';
import { type Handler, NOT_FOUND, type SimContext } from './context.js';
import { present } from './present.js';

const TOKEN_MISSING: Reply = json(400, { error: 'token is missing' });
const UNSUPPORTED: Reply = json(422, { message: 'Token type not supported.' });
const FLAG_DISABLED: Reply = json(404, { message: "'api_admin_token_revoke' feature flag is disabled" });
const notFound = (token: string): Reply => json(404, { message: { error: 'Not found' } }, token);
const failed = (token: string, error: string): Reply => json(400, { message: { error } }, token);

type Found = { ok: true; rec: TokenRecord; action: AdminAction } | { ok: false; reply: Reply };

/** Shared prologue: route presence, admin credential, the `token` param, its kind and its record. */
function findSubject(req: Request, ctx: SimContext, beforeLookup?: () => Reply | undefined): Found {
  if (ctx.settings.adminApiMode === 'absent') return { ok: false, reply: NOT_FOUND };
  const auth = authenticate(req, ctx, { scopes: ['api'], scopeLabel: 'api read_api', admin: true });
  if (!auth.ok) return auth;
  const token = stringParam(req.params, 'token');
  if (token === undefined) return { ok: false, reply: TOKEN_MISSING };
  const early = beforeLookup?.();
  if (early) return { ok: false, reply: { ...early, token } };
  const parsed = parseToken(token, ctx.store.instancePrefix);
  if (!parsed || parsed.spec.action === 'unsupported') return { ok: false, reply: { ...UNSUPPORTED, token } };
  const rec = ctx.store.lookup(token);
  if (!rec) return { ok: false, reply: notFound(token) };
  const action = rec.kind === 'runner_authentication_token' ? ctx.settings.runnerAdminAction : parsed.spec.action;
  return { ok: true, rec, action };
}

export const identify: Handler = (req, ctx) => {
  const found = findSubject(req, ctx);
  return found.ok ? json(200, present(found.rec), found.rec.token) : found.reply;
};

export const revoke: Handler = (req, ctx) => {
  const flagCheck = (): Reply | undefined => (ctx.settings.adminApiMode === 'flag_disabled' ? FLAG_DISABLED : undefined);
  const found = findSubject(req, ctx, flagCheck);
  // Any DELETE that named a token counts as an attempt on it, whatever the answer.
  const target = found.ok ? found.rec.token : found.reply.token;
  if (target !== undefined) ctx.store.noteAttempt(target);
  if (!found.ok) return found.reply;
  const { rec, action } = found;
  switch (action) {
    case 'revoke':
      if (rec.revoked) return failed(rec.token, 'Token already revoked');
      ctx.store.revoke(rec, 'admin');
      return empty(204, rec.token);
    case 'reset':
      ctx.store.reset(rec, 'admin');
      return empty(204, rec.token);
    case 'delete':
      ctx.store.delete(rec, 'admin');
      return empty(204, rec.token);
    default:
      return failed(rec.token, `Revoking a ${rec.kind} is not supported`);
  }
};
