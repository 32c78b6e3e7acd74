// Every Redis key the service writes, in one list: what is ours in a shared Redis, and what a migration must know.
// Keys name fingerprints, provider keys and credential names, never a token.
import type { Cluster, Redis } from 'ioredis';

/**
 * Every Redis key of the service starts with this (BullMQ's queue prefix too), so one Redis can be shared and scanned.
 * On a Redis Cluster it is the hash tag `{trapi}`: every key then hashes to one slot, so BullMQ's scripts and ours,
 * which touch several keys at once, run unchanged (the cost: one master holds all of it). One Redis and a sentinel
 * group keep `trapi`, so their data needs no migration. Set once at start-up (`useKeyPrefixFor`), before any key is built.
 */
export let KEY_PREFIX = 'trapi';

/** The prefix for the Redis the process stands on; the composition roots call it first, from the Config's target. */
export function useKeyPrefixFor(kind: 'single' | 'sentinel' | 'cluster'): void {
  KEY_PREFIX = kind === 'cluster' ? '{trapi}' : 'trapi';
}

export const KEYS = {
  /** Hash per token fingerprint: its record (what was received, each attempt, the outcome). */
  record: (fp: string) => `${KEY_PREFIX}:record:${fp}`,
  /** A token's terminal outcome, kept after its job is removed. */
  outcome: (fp: string) => `${KEY_PREFIX}:outcome:${fp}`,
  /** Sorted set of unsettled fingerprints, scored by acceptance. */
  get unsettled() {
    return `${KEY_PREFIX}:unsettled`;
  },
  /** Hash `#<why>` -> how many unsettled tokens last waited for that (each record holds its own `waiting`). */
  get unsettledWaiting() {
    return `${KEY_PREFIX}:unsettled:waiting`;
  },
  /** Hash of open credential breakers. */
  get breakers() {
    return `${KEY_PREFIX}:breakers`;
  },
  /** Stream of on-call actions. */
  get audit() {
    return `${KEY_PREFIX}:audit`;
  },
  /** A background replay's progress. */
  replayRun: (id: string) => `${KEY_PREFIX}:replay-runs:${id}`,
  /** Marker of a vulnerability note or resolve already written. */
  feedbackDone: (fp: string, vulnerability: number, status: string) => `${KEY_PREFIX}:feedback:done:${fp}:${vulnerability}:${status}`,
  /** A provider's own remembered state (e.g. an endpoint found unavailable), by its key. */
  providerState: (provider: string) => `${KEY_PREFIX}:provider:${provider}:`,
  /** A vendor call budget shared by every replica: calls in the window, and the block after a 429. */
  budgetCalls: (key: string) => `${KEY_PREFIX}:budget:${key}:calls`,
  budgetBlocked: (key: string) => `${KEY_PREFIX}:budget:${key}:blocked`,
  /** The outbound limiter of one key: when the next call may start, and the calls in flight. */
  outboundNext: (key: string) => `${KEY_PREFIX}:outbound:${key}:next`,
  outboundLeases: (key: string) => `${KEY_PREFIX}:outbound:${key}:leases`,
  /** Our GitLab credentials: one hash each under this root, plus the set of adopted ones. */
  get credentialRoot() {
    return `${KEY_PREFIX}:credential`;
  },
  /** The inbound rate limits (express-rate-limit's store), one prefix per limited route family. */
  rateLimit: (name: 'get' | 'post') => `${KEY_PREFIX}:rl:${name}:`,
} as const;

/**
 * The node connection that holds every key of ours: the connection itself, or on a cluster the master serving
 * KEY_PREFIX's slot. Where a SCAN of our keys must go (a cluster client sends a keyless command to any node), and a
 * WAIT for our writes (the node connection the cluster client sent them on). Asked each time: a failover moves the slot.
 */
export async function nodeOfKeys(redis: Redis | Cluster): Promise<Redis> {
  return redis.isCluster ? masterFor(redis as Cluster, KEY_PREFIX) : (redis as Redis);
}

/**
 * The connected master of the cluster that serves `key`'s slot; throws while none does (mid-failover). A client that
 * sent nothing keyed since a failover still names the dead master (only a MOVED or a refresh updates its map): on
 * a miss the slot map is refreshed once before giving up.
 */
export async function masterFor(cluster: Cluster, key: string): Promise<Redis> {
  const slot = await cluster.cluster('KEYSLOT', key);
  const find = () => {
    const owner = cluster.slots[slot]?.[0];
    return cluster.nodes('master').find((n) => `${n.options.host}:${n.options.port}` === owner);
  };
  let node = find();
  if (!node) {
    await new Promise<void>((resolve) => cluster.refreshSlotsCache(() => resolve()));
    node = find();
  }
  if (!node) throw new Error(`no connected master serves slot ${slot}`);
  return node;
}
