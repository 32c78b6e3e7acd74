// The key prefix follows the Redis target: on a cluster every key starts with the hash tag `{trapi}`, and Redis hashes
// a key by its first `{...}` only, so every key (BullMQ's under the same prefix too) lands in one slot and every
// multi-key script or transaction of ours stays legal there. One Redis and sentinels keep `trapi` (no migration).
import { KEYS, KEY_PREFIX, useKeyPrefixFor } from '../../src/keys.js';
import { KEY_PREFIX as QUEUE_PREFIX } from '../../src/queue/jobs.js';

/** Every key KEYS builds, with sample arguments. */
function everyKey(): string[] {
  return Object.keys(KEYS).map((name) => {
    const value = (KEYS as Record<string, unknown>)[name];
    return typeof value === 'function' ? String((value as (...a: unknown[]) => unknown)('sample', 1, 'revoked')) : String(value);
  });
}

afterEach(() => useKeyPrefixFor('single'));

describe('the key prefix', () => {
  it('is the hash tag {trapi} on a cluster, for every key and for the queues', () => {
    useKeyPrefixFor('cluster');
    expect(KEY_PREFIX).toBe('{trapi}');
    expect(QUEUE_PREFIX).toBe('{trapi}'); // the re-export follows: BullMQ's keys carry the tag too
    const keys = everyKey();
    expect(keys.length).toBeGreaterThanOrEqual(15);
    for (const key of keys) expect(key.startsWith('{trapi}:')).toBe(true);
  });

  it('stays trapi on one Redis and behind sentinels', () => {
    for (const kind of ['single', 'sentinel'] as const) {
      useKeyPrefixFor(kind);
      expect(KEY_PREFIX).toBe('trapi');
      for (const key of everyKey()) expect(key.startsWith('trapi:')).toBe(true);
    }
  });
});
