// Pre-shared token authentication: GitLab sends the raw token in Authorization; `Bearer <token>` works too.
import type { RequestHandler } from 'express';
import { UnauthorizedError } from '../errors.js';
import { credentialMatcher } from './credential-match.js';

/** The credential a request presents, or undefined. Very old GitLab versions sent X-Gitlab-Token or X-Token. */
export function presentedCredential(headers: Readonly<Record<string, string | string[] | undefined>>): string | undefined {
  const raw = headers['authorization'] ?? headers['x-gitlab-token'] ?? headers['x-token'];
  const value = (Array.isArray(raw) ? raw[0] : raw)?.trim();
  if (!value) return undefined;
  return /^bearer\s+/i.test(value) ? value.replace(/^bearer\s+/i, '') : value;
}

/** `tokens` is read per request, so that a reload takes effect at once; the comparison is constant-time. */
export function authenticate(tokens: () => readonly string[]): RequestHandler {
  const match = credentialMatcher(tokens, (t) => t);
  return (req, res, next) => {
    const { entry, digest } = match(presentedCredential(req.headers));
    if (entry === undefined) return next(new UnauthorizedError());
    res.locals['credentialDigest'] = digest.toString('hex');
    next();
  };
}
