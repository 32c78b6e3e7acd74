// Runner endpoints authenticated by the runner token itself (form or JSON `token=`): reset, delete, verify.
import { empty, json, type Reply, type Request, stringParam } from '../http.js';
import type { TokenRecord } from '../state.js';
import { FORBIDDEN } from './auth.js';
import type { Handler, SimContext } from './context.js';

const TOKEN_MISSING: Reply = json(400, { error: 'token is missing' });

type Found = { ok: true; rec: TokenRecord } | { ok: false; reply: Reply };

/** The runner behind `token=`; anything but an active runner authentication token is a 403. */
function runnerOf(req: Request, ctx: SimContext, revoking: boolean): Found {
  const token = stringParam(req.params, 'token');
  if (token === undefined) return { ok: false, reply: TOKEN_MISSING };
  if (revoking) ctx.store.noteAttempt(token);
  const rec = ctx.store.lookup(token);
  if (!rec || rec.kind !== 'runner_authentication_token' || rec.revoked) return { ok: false, reply: { ...FORBIDDEN, token } };
  return { ok: true, rec };
}

export const resetRunnerToken: Handler = (req, ctx) => {
  const found = runnerOf(req, ctx, true);
  if (!found.ok) return found.reply;
  const fresh = ctx.store.reset(found.rec, 'runner');
  return json(200, { token: fresh.token, token_expires_at: null }, found.rec.token);
};

export const deleteRunner: Handler = (req, ctx) => {
  const found = runnerOf(req, ctx, true);
  if (!found.ok) return found.reply;
  ctx.store.delete(found.rec, 'runner');
  return empty(204, found.rec.token);
};

export const verifyRunner: Handler = (req, ctx) => {
  const found = runnerOf(req, ctx, false);
  if (!found.ok) return found.reply;
  return json(200, { id: found.rec.id, token: found.rec.token, token_expires_at: null }, found.rec.token);
};
