// POST /api/v4/groups/:id/tokens/revoke: a top-level group Owner revokes tokens with access to the group.
import { json, type Reply, stringParam } from '../http.js';
import type { TokenKind } from '../tokens.js';
import { authenticate, FORBIDDEN } from './auth.js';
import type { Handler } from './context.js';
import { present } from './present.js';

// GitLab answers every failure of this endpoint with a bare 422 and no body.
const UNPROCESSABLE = (token: string): Reply => ({ status: 422, token });
const REVOCABLE = new Set<TokenKind>(['personal_access_token', 'deploy_token', 'feed_token']);

export const revokeGroupToken: Handler = (req, ctx) => {
  const auth = authenticate(req, ctx, { scopes: ['api'], scopeLabel: 'api' });
  if (!auth.ok) return auth.reply;
  const groupId = Number(req.pathParams['id']);
  if (!auth.rec.ownedGroupIds.includes(groupId)) return FORBIDDEN;
  const token = stringParam(req.params, 'token');
  if (token === undefined) return json(400, { error: 'token is missing' });
  ctx.store.noteAttempt(token);
  const rec = ctx.store.lookup(token, { groupId });
  if (!rec || !REVOCABLE.has(rec.kind) || rec.revoked || rec.groupId !== groupId) return UNPROCESSABLE(token);
  // Feed tokens cannot be revoked, only replaced.
  if (rec.kind === 'feed_token') return json(200, present(ctx.store.reset(rec, 'group')), token);
  ctx.store.revoke(rec, 'group');
  return json(200, present(rec), token);
};
