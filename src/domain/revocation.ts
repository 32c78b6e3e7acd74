// What a request asks for, once validated: the distinct tokens to revoke, and the items we cannot take.
import type { ErrorDetail } from '../errors.js';
import { createHash } from 'node:crypto';

/** One validated item of POST /v1/revoke_tokens. `url` is the older name of `location`. */
export interface SubmittedItem {
  readonly type: string;
  readonly token: string;
  readonly location?: string;
  readonly url?: string;
}

/** A token to revoke: one per distinct token string, whatever its spelling of type or location. */
export interface AcceptedToken {
  readonly type: string;
  readonly token: string;
  readonly location?: string;
}

export interface Triage {
  /** Unique by token: a token listed twice is one revocation. */
  readonly accepted: readonly AcceptedToken[];
  readonly unsupported: readonly ErrorDetail[];
}

/** Splits a batch into tokens to enqueue and items whose type no provider handles. */
export function triage(items: readonly SubmittedItem[], supports: (type: string) => boolean): Triage {
  const accepted = new Map<string, AcceptedToken>();
  const unsupported: ErrorDetail[] = [];
  items.forEach((item, index) => {
    if (!supports(item.type)) {
      unsupported.push({ index, path: `/${index}/type`, type: item.type.slice(0, 200), message: 'token type is not supported' });
      return;
    }
    const location = item.location ?? item.url;
    if (!accepted.has(item.token)) accepted.set(item.token, { type: item.type, token: item.token, ...(location === undefined ? {} : { location }) });
  });
  return { accepted: [...accepted.values()], unsupported };
}

/** An intake job's identity: the same items (a whole-batch resend) get the same id; other locations do not. */
export function batchId(tokens: readonly AcceptedToken[]): string {
  const hash = createHash('sha256').update('trapi-batch\0');
  for (const t of tokens.map((a) => `${a.token}\0${a.type}\0${a.location ?? ''}`).sort()) hash.update(t).update('\0');
  return hash.digest('hex');
}

