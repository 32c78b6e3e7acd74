// Pre-shared token authentication: GitLab sends the raw token in Authorization; `Bearer <token>` works too.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { RequestHandler } from 'express';
import { UnauthorizedError } from '../errors.js';

const digest = (s: string): Buffer => createHash('sha256').update(s, 'utf8').digest();

/** The credential a request presents, or undefined. Very old GitLab versions sent X-Gitlab-Token or X-Token. */
export function presentedCredential(headers: Readonly<Record<string, string | string[] | undefined>>): string | undefined {
  const raw = headers['authorization'] ?? headers['x-gitlab-token'] ?? headers['x-token'];
  const value = (Array.isArray(raw) ? raw[0] : raw)?.trim();
  if (!value) return undefined;
  return /^bearer\s+/i.test(value) ? value.replace(/^bearer\s+/i, '') : value;
}

/**
 * Compares digests in constant time against every configured token, without stopping at a match, so that
 * neither the token nor which of several tokens matched leaks through timing. `tokens` is read per request
 * so that a reload takes effect at once.
 */
export function authenticate(tokens: () => readonly string[]): RequestHandler {
  // Digests of the configured tokens, recomputed only when the list itself changes (a reload).
  let cachedFor: readonly string[] | undefined;
  let digests: readonly Buffer[] = [];
  return (req, res, next) => {
    const current = tokens();
    if (current !== cachedFor) {
      cachedFor = current;
      digests = current.map(digest);
    }
    const presented = presentedCredential(req.headers);
    const candidate = digest(presented ?? '');
    let ok = false;
    for (const d of digests) ok = timingSafeEqual(candidate, d) || ok;
    if (!presented || !ok) return next(new UnauthorizedError());
    res.locals['credentialDigest'] = candidate.toString('hex');
    next();
  };
}
