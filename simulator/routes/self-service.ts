// Endpoints a token answers about itself: /api/v4/personal_access_tokens/self (GET, DELETE, rotate).
import { empty, json, type Reply, stringParam } from '../http.js';
import { isExpired } from '../state.js';
import { authenticate, credentialOf, REVOKED } from './auth.js';
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

export const rotateSelf: Handler = (req, ctx) => {
  const token = credentialOf(req);
  const rec = token === undefined ? undefined : ctx.store.get(token);
  // Since 16.3 reusing an already-rotated (revoked) token revokes the whole chain: two rotating replicas lock us out.
  if (rec && rec.kind === 'personal_access_token' && rec.revoked && !isExpired(rec)) {
    ctx.store.revokeFamily(rec.family);
    return { ...REVOKED, token: rec.token };
  }
  const auth = authenticate(req, ctx, { scopes: ['api', 'self_rotate'], scopeLabel: 'api self_rotate', mayCreate: true });
  if (!auth.ok) return auth.reply;
  const expiresAt = rotationExpiry(stringParam(req.params, 'expires_at'));
  if (typeof expiresAt !== 'string') return { ...expiresAt, token: auth.rec.token };
  ctx.store.noteAttempt(auth.rec.token);
  const fresh = ctx.store.rotate(auth.rec, expiresAt);
  return json(200, { ...present(fresh), token: fresh.token }, auth.rec.token);
};
