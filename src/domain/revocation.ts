// What a request asks for, once validated: tokens to revoke, keyed by fingerprint, and the items we cannot take.
import type { ErrorDetail } from '../errors.js';
import { fingerprint } from './fingerprint.js';

/** One validated item of POST /v1/revoke_tokens. `url` is the older name of `location`. */
export interface SubmittedItem {
  readonly type: string;
  readonly token: string;
  readonly location?: string;
  readonly url?: string;
}

export interface AcceptedToken {
  readonly fp: string;
  readonly type: string;
  readonly token: string;
  readonly location?: string;
}

export interface Triage {
  /** Unique by fingerprint: a token listed twice is one revocation. */
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
    const fp = fingerprint(item.token);
    const location = item.location ?? item.url;
    if (!accepted.has(fp)) accepted.set(fp, { fp, type: item.type, token: item.token, ...(location === undefined ? {} : { location }) });
  });
  return { accepted: [...accepted.values()], unsupported };
}
