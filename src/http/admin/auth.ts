// Admin credentials (ADMIN_API_TOKENS), separate from GitLab's: `Bearer <token>` or HTTP Basic `<name>:<token>`.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { RequestHandler } from 'express';
import { UnauthorizedError } from '../../errors.js';

export interface AdminCredential {
  readonly name: string;
  readonly token: string;
}

/** Browsers ask for Basic credentials on this challenge (Bull Board is opened in a browser). */
export const ADMIN_CHALLENGE = 'Basic realm="trapi admin", charset="UTF-8"';

const digest = (s: string): Buffer => createHash('sha256').update(s, 'utf8').digest();

/**
 * The token an admin request presents: `Authorization: Bearer <token>`, or Basic with the token as the password (the
 * user name is not checked: the configured name of the matching token is what gets recorded). Undefined otherwise:
 * the raw form GitLab uses and the X-Gitlab-Token headers are not accepted here.
 */
export function presentedAdminToken(authorization: string | undefined): string | undefined {
  const value = authorization?.trim();
  if (!value) return undefined;
  const bearer = /^bearer\s+(\S+)$/i.exec(value);
  if (bearer) return bearer[1];
  const basic = /^basic\s+([A-Za-z0-9+/=]+)$/i.exec(value);
  if (!basic?.[1]) return undefined;
  const decoded = Buffer.from(basic[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon < 0 ? undefined : decoded.slice(colon + 1) || undefined;
}

/**
 * Compares the presented token's digest in constant time with every configured one, without stopping at a match.
 * On success `res.locals.adminActor` is `admin:<name>`; on failure a 401 with a Basic challenge. `credentials` is
 * read per request, so that a reload takes effect at once.
 */
export function authenticateAdmin(credentials: () => readonly AdminCredential[]): RequestHandler {
  let cachedFor: readonly AdminCredential[] | undefined;
  let digests: ReadonlyArray<{ readonly name: string; readonly digest: Buffer }> = [];
  return (req, res, next) => {
    const current = credentials();
    if (current !== cachedFor) {
      cachedFor = current;
      digests = current.map((c) => ({ name: c.name, digest: digest(c.token) }));
    }
    const presented = presentedAdminToken(req.headers.authorization);
    const candidate = digest(presented ?? '');
    let name: string | undefined;
    for (const d of digests) {
      const equal = timingSafeEqual(candidate, d.digest);
      name = name ?? (equal ? d.name : undefined);
    }
    if (presented === undefined || name === undefined) {
      res.set('WWW-Authenticate', ADMIN_CHALLENGE);
      return next(new UnauthorizedError());
    }
    res.locals['adminActor'] = `admin:${name}`;
    next();
  };
}

/** The actor authenticateAdmin recorded for this request. */
export const adminActor = (locals: Record<string, unknown>): string => {
  const actor = locals['adminActor'];
  if (typeof actor !== 'string') throw new UnauthorizedError();
  return actor;
};
