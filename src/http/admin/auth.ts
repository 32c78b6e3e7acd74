// Admin credentials (ADMIN_API_TOKENS), separate from GitLab's: `Bearer <token>` or HTTP Basic `<name>:<token>`.
import type { RequestHandler } from 'express';
import { UnauthorizedError } from '../../errors.js';
import { credentialMatcher } from '../credential-match.js';

export interface AdminCredential {
  readonly name: string;
  readonly token: string;
}

/** Browsers ask for Basic credentials on this challenge (Bull Board is opened in a browser). */
export const ADMIN_CHALLENGE = 'Basic realm="trapi admin", charset="UTF-8"';


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
 * Constant-time comparison with every configured admin credential (see credential-match.ts). On success
 * `res.locals.adminActor` is `admin:<name>`; on failure a 401 with a Basic challenge. `credentials` is read per
 * request, so that a reload takes effect at once.
 */
export function authenticateAdmin(credentials: () => readonly AdminCredential[]): RequestHandler {
  const match = credentialMatcher(credentials, (c) => c.token);
  return (req, res, next) => {
    const { entry } = match(presentedAdminToken(req.headers.authorization));
    if (entry === undefined) {
      res.set('WWW-Authenticate', ADMIN_CHALLENGE);
      return next(new UnauthorizedError());
    }
    res.locals['adminActor'] = `admin:${entry.name}`;
    next();
  };
}

/** The actor authenticateAdmin recorded for this request. */
export const adminActor = (locals: Record<string, unknown>): string => {
  const actor = locals['adminActor'];
  if (typeof actor !== 'string') throw new UnauthorizedError();
  return actor;
};
