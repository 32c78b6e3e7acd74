// GitLab's API guard: finds the calling personal access token and answers 401/403 as Grape does.
import { json, type Reply, type Request } from '../http.js';
import { isExpired, type TokenRecord } from '../state.js';
import { kindOf } from '../tokens.js';
import type { SimContext } from './context.js';

export interface Requirements {
  /** Any one of these scopes will do; none means any scope. */
  scopes?: readonly string[];
  /** The `scope` field of the insufficient_scope answer. */
  scopeLabel?: string;
  admin?: boolean;
  /** Whether autoCreate may create the credential (only for the leaked-token endpoints). */
  mayCreate?: boolean;
}

export type AuthResult = { ok: true; rec: TokenRecord } | { ok: false; reply: Reply };

const invalid = (description: string): Reply => json(401, { error: 'invalid_token', error_description: description });

export const UNAUTHORIZED: Reply = json(401, { message: '401 Unauthorized' });
export const BAD_TOKEN = invalid('Bad Access Token.');
export const EXPIRED = invalid('Token is expired. You can either do re-authorization or token refresh.');
export const REVOKED = invalid('Token was revoked. You have to re-authorize from the user.');
export const FORBIDDEN: Reply = json(403, { message: '403 Forbidden' });

export function insufficientScope(scope: string): Reply {
  return json(403, {
    error: 'insufficient_scope',
    error_description: 'The request requires higher privileges than provided by the access token.',
    scope,
  });
}

/** `PRIVATE-TOKEN: <t>` or `Authorization: Bearer <t>`. */
export function credentialOf(req: Request): string | undefined {
  const priv = req.headers['private-token'];
  if (typeof priv === 'string' && priv.length > 0) return priv;
  const m = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '');
  return m?.[1];
}

/** Validates as GitLab's AccessTokenValidationService: expired before revoked before scopes. */
export function authenticate(req: Request, ctx: SimContext, need: Requirements = {}): AuthResult {
  const token = credentialOf(req);
  if (token === undefined) return { ok: false, reply: UNAUTHORIZED };
  // autoCreate may only conjure a PAT here: a deploy token sent as PRIVATE-TOKEN must not start to exist.
  const creatable = need.mayCreate === true && kindOf(token, ctx.store.instancePrefix) === 'personal_access_token';
  const rec = creatable ? ctx.store.lookup(token) : ctx.store.get(token);
  if (!rec || rec.kind !== 'personal_access_token') return { ok: false, reply: BAD_TOKEN };
  if (isExpired(rec)) return { ok: false, reply: EXPIRED };
  if (rec.revoked) return { ok: false, reply: REVOKED };
  const scopes = need.scopes ?? [];
  if (scopes.length > 0 && !scopes.some((s) => rec.scopes.includes(s))) {
    return { ok: false, reply: insufficientScope(need.scopeLabel ?? scopes.join(' ')) };
  }
  if (need.admin && !rec.admin) return { ok: false, reply: FORBIDDEN };
  rec.lastUsedAt = new Date().toISOString();
  return { ok: true, rec };
}
