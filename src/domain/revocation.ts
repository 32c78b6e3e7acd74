// What a request asks for, once validated: the distinct tokens to revoke, and the items we cannot take.
import type { ErrorDetail } from '../errors.js';
import { createHash } from 'node:crypto';
import { mergeRefs, refKey, vulnerabilityRef, type VulnerabilityRef } from './vulnerability.js';

/** One validated item of POST /v1/revoke_tokens. `url` is the older name of `location`. */
export interface SubmittedItem {
  readonly type: string;
  readonly token: string;
  readonly location?: string;
  readonly url?: string;
  /** GitLab sends the finding's whole vulnerability record (or null): only its id is kept (vulnerability.ts). */
  readonly vulnerability?: unknown;
}

/** A token to revoke: one per distinct token string, whatever its spelling of type or location. */
export interface AcceptedToken {
  readonly type: string;
  readonly token: string;
  readonly location?: string;
  /** Every distinct vulnerability that named this token in the batch (bounded); absent when none did. */
  readonly vulnerabilities?: readonly VulnerabilityRef[];
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
    const ref = vulnerabilityRef(item.vulnerability);
    const known = accepted.get(item.token);
    if (!known) accepted.set(item.token, { type: item.type, token: item.token, ...(location === undefined ? {} : { location }), ...(ref ? { vulnerabilities: [ref] } : {}) });
    else if (ref) accepted.set(item.token, { ...known, vulnerabilities: mergeRefs(known.vulnerabilities, [ref]) });
  });
  return { accepted: [...accepted.values()], unsupported };
}

/** An intake job's identity: the same items (a whole-batch resend) get the same id; other locations do not. */
export function batchId(tokens: readonly AcceptedToken[]): string {
  const hash = createHash('sha256').update('trapi-batch\0');
  // A resend naming a new vulnerability is a new batch: its note must not be absorbed by the first one's job.
  for (const t of tokens.map((a) => `${a.token}\0${a.type}\0${a.location ?? ''}${a.vulnerabilities?.length ? `\0${a.vulnerabilities.map(refKey).join(',')}` : ''}`).sort()) hash.update(t).update('\0');
  return hash.digest('hex');
}

