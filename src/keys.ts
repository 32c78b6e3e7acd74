// Every Redis key the service writes, in one list: what is ours in a shared Redis, and what a migration must know.
// Keys name fingerprints, provider keys and credential names, never a token.

/** Every Redis key of the service starts with this (BullMQ's queue prefix too), so one Redis can be shared and scanned. */
export const KEY_PREFIX = 'trapi';

export const KEYS = {
  /** Hash per token fingerprint: its record (what was received, each attempt, the outcome). */
  record: (fp: string) => `${KEY_PREFIX}:record:${fp}`,
  /** A token's terminal outcome, kept after its job is removed. */
  outcome: (fp: string) => `${KEY_PREFIX}:outcome:${fp}`,
  /** Sorted set of unsettled fingerprints, scored by acceptance. */
  unsettled: `${KEY_PREFIX}:unsettled`,
  /** Hash fingerprint -> why it waits. */
  unsettledWaiting: `${KEY_PREFIX}:unsettled:waiting`,
  /** Hash of open credential breakers. */
  breakers: `${KEY_PREFIX}:breakers`,
  /** Stream of on-call actions. */
  audit: `${KEY_PREFIX}:audit`,
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
  credentialRoot: `${KEY_PREFIX}:credential`,
  /** The inbound rate limits (express-rate-limit's store), one prefix per limited route family. */
  rateLimit: (name: 'get' | 'post') => `${KEY_PREFIX}:rl:${name}:`,
} as const;
