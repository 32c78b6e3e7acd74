// Parsing the secret variables: token lists, ADMIN_API_TOKENS' named credentials, TOKEN_ENCRYPTION_KEY's keys.
import { keyFromBase64, type EncryptionKey } from '../domain/crypto.js';
import type { Raw } from './environment.js';
import type { AdminToken } from './types.js';

export const splitTokens = (s: string): string[] => s.split(',').map((t) => t.trim()).filter((t) => t.length > 0);

const ADMIN_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/**
 * ADMIN_API_TOKENS: comma-separated `name:token` or bare tokens (named `admin`). Problems name the entry by its
 * position and never quote a token; an admin token must not also be one of GitLab's REVOCATION_API_TOKENS.
 */
export function parseAdminTokens(raw: Raw, problems: string[]): AdminToken[] {
  const value = raw['ADMIN_API_TOKENS'];
  if (value === undefined) return [];
  const gitlab = new Set(splitTokens(String(raw['REVOCATION_API_TOKENS'] ?? '')));
  const seen = new Set<string>();
  const out: AdminToken[] = [];
  splitTokens(String(value)).forEach((entry, i) => {
    const colon = entry.indexOf(':');
    const name = colon < 0 ? 'admin' : entry.slice(0, colon).trim();
    const token = colon < 0 ? entry : entry.slice(colon + 1).trim();
    const where = `ADMIN_API_TOKENS: entry ${i + 1}`;
    if (!ADMIN_NAME.test(name)) problems.push(`${where}: the name must be 1 to 64 letters, digits, '.', '_' or '-' (give \`name:token\`)`);
    else if (token.length < 16) problems.push(`${where} (${name}): the token must be at least 16 characters`);
    else if (gitlab.has(token)) problems.push(`${where} (${name}): the token is also one of REVOCATION_API_TOKENS; the admin credential must be separate from GitLab's`);
    else if (seen.has(token)) problems.push(`${where} (${name}): the same token is listed twice`);
    else {
      seen.add(token);
      out.push(Object.freeze({ name, token }));
    }
  });
  return out;
}

/** TOKEN_ENCRYPTION_KEY's comma-separated keys, newest first: the first seals, every one opens (key rotation). */
export const encryptionKeys = (value: string): readonly EncryptionKey[] => Object.freeze(value.split(',').map((k) => keyFromBase64(k.trim())));
