// Endpoints a token answers about itself: /personal_access_tokens/self (GET, DELETE, rotate) and resource tokens' self-rotate.
import { empty, json, type Reply, type Request, stringParam } from '../http.js';
import { isExpired, type TokenRecord } from '../state.js';
import { authenticate, credentialOf, REVOKED, UNAUTHORIZED } from './auth.js';
import type { Handler } from './context.js';
import { present } from './present.js';

const DAY_MS = 24 * 60 * 60 * 1000;
// GitLab's default lifetime of a rotated token when the caller gives no expires_at.
const DEFAULT_ROTATION_DAYS = 7;

export const getSelf: Handler = (req, ctx) => {
  const auth = authenticate(req, ctx, { mayCreate: true });
  return auth.ok ? json(200, present(auth.rec), auth.rec.token) : auth.reply;
};

export const deleteSelf: Handler = (req, ctx) => {
  const token = credentialOf(req);
  if (token !== undefined) ctx.store.noteAttempt(token);
  const auth = authenticate(req, ctx, { mayCreate: true });
  if (!auth.ok) return auth.reply;
  ctx.store.revoke(auth.rec, 'self');
  return empty(204, auth.rec.token);
};

/** A YYYY-MM-DD in the future, the default lifetime when absent, or an error answer. */
function rotationExpiry(raw: string | undefined, now = Date.now()): string | Reply {
  if (raw === undefined) return new Date(now + DEFAULT_ROTATION_DAYS * DAY_MS).toISOString().slice(0, 10);
  const t = Date.parse(`${raw}T00:00:00Z`);
  if (!/^\d{4}-\d{2}-\d{2}$/.test(raw) || !Number.isFinite(t)) return json(400, { error: 'expires_at is invalid' });
  if (t <= now) return json(400, { message: 'Expiration date must be in the future' });
  return raw;
}

/** GitLab's `not_allowed!`: the route exists but not for this kind of token. */
const NOT_ALLOWED: Reply = json(405, { message: '405 Method Not Allowed' });

/** Decides whether an authenticated token may rotate itself on a route: undefined means yes. */
type ResourceCheck = (rec: TokenRecord, req: Request) => Reply | undefined;

function rotateWith(check: ResourceCheck): Handler {
  return (req, ctx) => {
    const token = credentialOf(req);
    const rec = token === undefined ? undefined : ctx.store.get(token);
    // Since 16.3 reusing an already-rotated (revoked) token revokes the whole chain: two rotating replicas lock us out.
    if (rec && rec.kind === 'personal_access_token' && rec.revoked && !isExpired(rec)) {
      ctx.store.revokeFamily(rec.family);
      return { ...REVOKED, token: rec.token };
    }
    const auth = authenticate(req, ctx, { scopes: ['api', 'self_rotate'], scopeLabel: 'api self_rotate', mayCreate: true });
    if (!auth.ok) return auth.reply;
    const refused = check(auth.rec, req);
    if (refused) return { ...refused, token: auth.rec.token };
    const expiresAt = rotationExpiry(stringParam(req.params, 'expires_at'));
    if (typeof expiresAt !== 'string') return { ...expiresAt, token: auth.rec.token };
    ctx.store.noteAttempt(auth.rec.token);
    const fresh = ctx.store.rotate(auth.rec, expiresAt);
    return json(200, { ...present(fresh), token: fresh.token }, auth.rec.token);
  };
}

/**
 * GitLab first refuses any non-bot user (405), then looks the token up among the resource's tokens (401 when
 * absent): a group bot on a project's route is a bot, so it gets the 401, not the 405.
 */
function resourceToken(owner: (rec: TokenRecord) => number | null, subkind: 'project' | 'group'): ResourceCheck {
  return (rec, req) => {
    if (rec.subkind !== 'project' && rec.subkind !== 'group') return NOT_ALLOWED;
    const id = Number(req.pathParams['id']);
    return rec.subkind === subkind && owner(rec) === id ? undefined : UNAUTHORIZED;
  };
}

export const rotateSelf: Handler = rotateWith(() => undefined);
export const rotateProjectTokenSelf: Handler = rotateWith(resourceToken((rec) => rec.projectId, 'project'));
export const rotateGroupTokenSelf: Handler = rotateWith(resourceToken((rec) => rec.groupId, 'group'));
