// GitHub's token formats as the simulator issues and checks them (its own copy: it must not trust the provider's).
import { randomInt } from 'node:crypto';

/** `v1.` + 40 hex: installation tokens in their older format. */
export const PREFIXES = ['ghp_', 'github_pat_', 'gho_', 'ghu_', 'ghs_', 'ghr_', 'v1.'] as const;
export type TokenPrefix = (typeof PREFIXES)[number];

/** Installation tokens, in either format: they delete themselves; /credentials/revoke does not take them. */
export const isInstallation = (prefix: TokenPrefix | undefined): boolean => prefix === 'ghs_' || prefix === 'v1.';

const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const PAT_BODY = /^[A-Za-z0-9_]{82}$/;
const CLASSIC_BODY = /^[A-Za-z0-9]{36}$/;

const random = (n: number, alphabet = ALNUM): string => Array.from({ length: n }, () => alphabet[randomInt(alphabet.length)]).join('');

/** A well-formed token, known to nobody yet. Fine-grained PATs are `github_pat_` + 22 + `_` + 59. */
export function makeToken(prefix: TokenPrefix): string {
  if (prefix === 'v1.') return `v1.${random(40, '0123456789abcdef')}`;
  return prefix === 'github_pat_' ? `github_pat_${random(22)}_${random(59)}` : `${prefix}${random(36)}`;
}

export function prefixOf(token: string): TokenPrefix | undefined {
  return PREFIXES.find((p) => token.startsWith(p));
}

export function isWellFormed(token: string): boolean {
  const prefix = prefixOf(token);
  if (prefix === undefined) return false;
  const body = token.slice(prefix.length);
  if (prefix === 'v1.') return /^[0-9a-f]{40}$/.test(body);
  return prefix === 'github_pat_' ? PAT_BODY.test(body) : CLASSIC_BODY.test(body);
}

/** What /credentials/revoke accepts: every documented prefix but installation tokens. */
export const isRevocableByList = (token: string): boolean => isWellFormed(token) && !isInstallation(prefixOf(token));
