// Constant-time matching of a presented credential against a configured list that may be reloaded at any time.
import { createHash, timingSafeEqual } from 'node:crypto';

export const digest = (s: string): Buffer => createHash('sha256').update(s, 'utf8').digest();

/**
 * Returns a matcher over `list()`: it compares SHA-256 digests in constant time against every entry, without stopping
 * at a match, so that neither the secret nor which entry matched leaks through timing. Digests are recomputed only
 * when the list itself changes (a reload), since `list()` is read on every call.
 */
export function credentialMatcher<T>(list: () => readonly T[], secretOf: (entry: T) => string): (presented: string | undefined) => { entry: T | undefined; digest: Buffer } {
  let cachedFor: readonly T[] | undefined;
  let digests: ReadonlyArray<{ entry: T; digest: Buffer }> = [];
  return (presented) => {
    const current = list();
    if (current !== cachedFor) {
      cachedFor = current;
      digests = current.map((entry) => ({ entry, digest: digest(secretOf(entry)) }));
    }
    const candidate = digest(presented ?? '');
    let found: T | undefined;
    for (const d of digests) {
      const equal = timingSafeEqual(candidate, d.digest);
      found = found ?? (equal ? d.entry : undefined);
    }
    return { entry: presented === undefined ? undefined : found, digest: candidate };
  };
}
