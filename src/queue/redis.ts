// Redis connections: the producer fails fast (a request must never hang), the worker waits and reconnects; to one
// Redis, a Sentinel-monitored master or a Cluster.
import { Cluster, Redis, type ClusterOptions } from 'ioredis';
import { nodeOfKeys } from '../keys.js';
import type { RedisTarget } from '../domain/redis-target.js';
import type { Logger } from '../logger.js';

export { masterFor, nodeOfKeys } from '../keys.js';
export type { RedisTarget } from '../domain/redis-target.js';

/** A connection of either shape; BullMQ takes both. */
export type RedisClient = Redis | Cluster;

/** What differs between the roles; the same on one Redis, behind sentinels and (split per node) on a cluster. */
interface RoleOptions {
  readonly enableAutoPipelining?: boolean;
  readonly enableOfflineQueue?: boolean;
  readonly maxRetriesPerRequest: number | null;
  readonly commandTimeout?: number;
  readonly connectTimeout: number;
  readonly lazyConnect?: boolean;
  readonly retryStrategy: (times: number) => number;
  readonly maxLoadingRetryTime: number;
}

/**
 * Wait before the `times`th attempt to reconnect: 100 ms more each time, at most RECONNECT_MAX_MS. A restarted Redis
 * is used again within that much of answering: the workers' former 5 s cap (2 s for the producer connections, on
 * which the outbound limiter also runs) left GitLab calls paused for up to that long after Redis was back. An
 * attempt against a Redis still down costs a refused connection (behind sentinels, a question to them), so a few
 * per second per connection are cheap.
 */
export const RECONNECT_MAX_MS = 500;
const reconnectDelay = (times: number): number => Math.min(times * 100, RECONNECT_MAX_MS);

/**
 * A connection that reaches a restarted Redis while it still loads its AOF asks again this soon whether it is done
 * (ioredis's ready check otherwise waits Redis's loading estimate, or a full second: in the bench's restart section
 * most of the pause after a restart was that second, for a load of a few milliseconds).
 */
const LOADING_RECHECK_MS = 100;

/**
 * For the HTTP edge: no offline queue, one try, 2 s per command, so a dead Redis is a prompt 503. Auto-pipelining
 * sends the commands of concurrent requests (rate-limit counters, intake jobs) in one write per event-loop tick.
 */
const PRODUCER = {
  enableAutoPipelining: true,
  enableOfflineQueue: false,
  maxRetriesPerRequest: 1,
  commandTimeout: 2000,
  connectTimeout: 2000,
  lazyConnect: true,
  retryStrategy: (times: number) => reconnectDelay(times),
  maxLoadingRetryTime: LOADING_RECHECK_MS,
} satisfies RoleOptions;

/**
 * For a producer whose connection carries BullMQ queues: the same, without auto-pipelining. ioredis copies every script
 * defined on a connection into each pipeline it makes, and BullMQ defines dozens: a pipeline per event-loop tick cost
 * more than the writes it saved (profiled at 500 tokens/s). The intake writes are grouped by the producer anyway.
 */
const QUEUE_PRODUCER = { ...PRODUCER, enableAutoPipelining: false } satisfies RoleOptions;

/** For workers: BullMQ requires `maxRetriesPerRequest: null` so blocking calls wait out a Redis restart. */
const WORKER = {
  maxRetriesPerRequest: null,
  connectTimeout: 5000,
  retryStrategy: (times: number) => reconnectDelay(times),
  maxLoadingRetryTime: LOADING_RECHECK_MS,
} satisfies RoleOptions;

export function producerConnection(url: string): Redis {
  return new Redis(url, PRODUCER);
}

export function workerConnection(url: string): Redis {
  return new Redis(url, WORKER);
}

/** Cluster-only knobs: `dnsLookup` for nodes whose announced names must resolve differently (TLS, NAT). */
export interface ClusterExtras {
  readonly dnsLookup?: ClusterOptions['dnsLookup'];
}

/**
 * The producer's connection to `target`: same fail-fast rules as `producerConnection`; `forQueues` when BullMQ queues
 * will use it (no auto-pipelining, see QUEUE_PRODUCER).
 */
export function producerConnectionTo(target: RedisTarget, extras: ClusterExtras = {}, forQueues = false): RedisClient {
  return connectionTo(target, forQueues ? QUEUE_PRODUCER : PRODUCER, extras);
}

/** A worker's connection to `target`: same wait-and-reconnect rules as `workerConnection`. */
export function workerConnectionTo(target: RedisTarget, extras: ClusterExtras = {}): RedisClient {
  return connectionTo(target, WORKER, extras);
}

function connectionTo(target: RedisTarget, role: RoleOptions, extras: ClusterExtras): RedisClient {
  switch (target.kind) {
    case 'single':
      return new Redis(target.url, role);
    case 'sentinel':
      return new Redis(sentinelOptions(target, role));
    case 'cluster':
      return new Cluster(target.nodes.map(({ host, port }) => ({ host, port })), clusterOptions(target, role, extras));
  }
}

/** A replica still answering as the old master refuses writes with READONLY: reconnect, ask the sentinels again, resend. */
const reconnectOnReadonly = (err: Error): 2 | false => (err.message.startsWith('READONLY') ? 2 : false);

function sentinelOptions(target: Extract<RedisTarget, { kind: 'sentinel' }>, role: RoleOptions) {
  return {
    ...role,
    sentinels: target.sentinels.map(({ host, port }) => ({ host, port })),
    name: target.name,
    role: 'master' as const,
    ...(target.sentinelPassword === undefined ? {} : { sentinelPassword: target.sentinelPassword }),
    ...auth(target),
    ...(target.db === undefined ? {} : { db: target.db }),
    // Without it ioredis speaks TLS to the sentinels only if sentinelTLS is set, and never to the master.
    ...(target.tls ? { enableTLSForSentinelMode: true } : {}),
    // No failover detector (ioredis's +switch-master subscription): its subscriber connections to the sentinels
    // outlived a closed connection and kept reconnecting forever after a stop. A dead master's socket closes, and
    // the reconnect asks the sentinels again; a master cut off but alive answers READONLY once demoted (below), and
    // until then nothing written to it is confirmed: its replica left it, so the WAIT gate answers 503.
    failoverDetector: false,
    // Sentinels can be down one by one during maintenance: keep asking, as the data connection keeps reconnecting.
    sentinelRetryStrategy: (times: number) => Math.min(times * 200, 2000),
    reconnectOnError: reconnectOnReadonly,
  };
}

/**
 * Per-node options mirror the role's (ioredis refuses `retryStrategy` and `enableOfflineQueue` there: the cluster
 * level owns them). Reads go to masters: a replica may lag the intake write it would be asked about.
 */
function clusterOptions(target: Extract<RedisTarget, { kind: 'cluster' }>, role: RoleOptions, extras: ClusterExtras) {
  const { retryStrategy, enableOfflineQueue, enableAutoPipelining, lazyConnect, ...perNode } = role;
  return {
    redisOptions: { ...perNode, ...auth(target) },
    scaleReads: 'master' as const,
    // An idle client (the operations', between on-call's commands) learns of a failover this soon, not at its next use.
    slotsRefreshInterval: 2000,
    ...(enableOfflineQueue === undefined ? {} : { enableOfflineQueue }),
    ...(enableAutoPipelining === undefined ? {} : { enableAutoPipelining }),
    ...(lazyConnect === undefined ? {} : { lazyConnect }),
    clusterRetryStrategy: retryStrategy,
    ...(extras.dnsLookup === undefined ? {} : { dnsLookup: extras.dnsLookup }),
  };
}

function auth(target: { readonly password?: string; readonly username?: string; readonly tls?: true }) {
  return {
    ...(target.password === undefined ? {} : { password: target.password }),
    ...(target.username === undefined ? {} : { username: target.username }),
    ...(target.tls ? { tls: {} } : {}),
  };
}

/**
 * `WAIT n timeoutMs` on the connection that made the writes to be confirmed (Redis counts the replicas that reached
 * that client's last write): the number of replicas that acknowledged, which is below `n` when the timeout ran out.
 * WAIT blocks its connection for up to `timeoutMs`: send it on a connection of its own, not one shared with
 * requests that must not wait behind it.
 */
export async function waitForReplicas(redis: Redis, n: number, timeoutMs: number): Promise<number> {
  if (n <= 0) return 0;
  return redis.wait(n, Math.max(1, Math.round(timeoutMs)));
}

/**
 * Longest one WAIT may block: under the 2 s commandTimeout of the producer's connections, so that the WAIT's own
 * answer (how many replicas have the writes), not a command timeout, decides, and a request still answers in time.
 */
export const WAIT_MAX_MS = 1500;

/** Fewer replicas than required acknowledged in time: the write may be on the master only, and is not confirmed. */
export class NotReplicatedError extends Error {
  override readonly name = 'NotReplicatedError';
}

/**
 * "Acknowledged means replicated": confirms that `replicas` replicas hold every write made so far on `connection`.
 * WAIT counts the writes of the connection it is sent on and blocks that connection meanwhile, so the gate gets a
 * connection of its own (the writes it confirms are made on it). Callers share WAITs: one sent after a caller's
 * write covers that write and every earlier one, so a caller arriving while a WAIT is in flight joins the next one,
 * and at most one WAIT blocks the connection at a time. `replicas` 0: confirms at once (one Redis, no replica).
 *
 * A WAIT counts only this connection's writes: sent (or, by ioredis, resent) after a reconnect, to the promoted
 * replica, it counts none and answers at once with that master's replicas, confirming a write that may have died
 * with the old master. So a caller takes `epoch` before its writes and passes it to `confirm`: a connection closed
 * meanwhile (on a cluster: any node lost) confirms nothing.
 */
export class ReplicaGate {
  #current: Promise<number> | undefined;
  #queued: Promise<number> | undefined;
  #epoch = 0;

  constructor(
    readonly connection: RedisClient,
    readonly replicas: number,
  ) {
    const next = () => void this.#epoch++;
    if (connection.isCluster) connection.on('-node', next).on('node error', next);
    else connection.on('close', next);
  }

  /** Changes whenever the connection closes: taken before a write, it tells `confirm` whether the WAIT can see it. */
  get epoch(): number {
    return this.#epoch;
  }

  /**
   * Resolves once enough replicas acknowledged the writes made since `since` (an `epoch`), within `timeoutMs` (at
   * most WAIT_MAX_MS); else NotReplicatedError.
   */
  async confirm(timeoutMs: number = WAIT_MAX_MS, since: number = this.#epoch): Promise<void> {
    if (this.replicas <= 0) return;
    const ms = Math.max(1, Math.min(timeoutMs, WAIT_MAX_MS));
    const acked = await this.#wait(ms);
    if (this.#epoch !== since) throw new NotReplicatedError('the connection was re-established since the write: a WAIT cannot see it');
    if (acked < this.replicas) throw new NotReplicatedError(`${acked} of ${this.replicas} replica(s) acknowledged the write within ${ms} ms`);
  }

  #wait(ms: number): Promise<number> {
    if (this.#queued) return this.#queued;
    const start = (): Promise<number> => {
      this.#queued = undefined;
      const sent = nodeOfKeys(this.connection).then((node) => waitForReplicas(node, this.replicas, ms));
      this.#current = sent;
      const clear = () => {
        if (this.#current === sent) this.#current = undefined;
      };
      sent.then(clear, clear);
      return sent;
    };
    if (!this.#current) return start();
    this.#queued = this.#current.then(start, start);
    return this.#queued;
  }
}

/**
 * REDIS_MIN_REPLICAS_ACK as it applies: `auto` is 1 when the master has a connected replica now, else 0; when the
 * master cannot be asked, 1 behind sentinels or on a cluster (they exist to replicate), 0 on one Redis. Warns when
 * the master has no replica and `warnAlone` (outside sandbox mode): a failover, or a lost disk, loses what it held.
 */
export async function replicasToAck(redis: RedisClient, setting: number | 'auto', replicated: boolean, warnAlone: boolean, logger: Logger): Promise<number> {
  const replicas = await nodeOfKeys(redis)
    .then(connectedReplicas)
    .catch(() => undefined);
  if (replicas === 0 && warnAlone) logger.warn('Redis has no replica: an accepted token lives on one node only, and is lost with it. Run Redis with a replica (REDIS_SENTINELS or REDIS_CLUSTER_NODES) in production.');
  const n = setting !== 'auto' ? setting : replicas === undefined ? (replicated ? 1 : 0) : Math.min(replicas, 1);
  logger.info({ minReplicasAck: n, setting, connectedReplicas: replicas }, 'writes confirmed once replicated to this many replicas (REDIS_MIN_REPLICAS_ACK)');
  return n;
}

/** Replicas attached to this master and streaming (`state=online` in INFO replication): those a WAIT can count. */
export async function connectedReplicas(redis: Redis): Promise<number> {
  const text = await redis.info('replication');
  return text.split(/\r?\n/).filter((line) => /^slave\d+:.*\bstate=online\b/.test(line)).length;
}

/** Resolves once the connection is ready, or rejects after `timeoutMs`. */
export async function connect(redis: RedisClient, timeoutMs = 5000): Promise<void> {
  if (redis.status === 'ready') return;
  if (redis.status === 'wait') redis.connect().catch(() => undefined); // 'error' events carry the cause; retryStrategy reconnects
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => done(new Error(`Redis not ready after ${timeoutMs} ms`)), timeoutMs);
    const onReady = () => done();
    const done = (err?: Error) => {
      clearTimeout(timer);
      redis.off('ready', onReady);
      if (err) reject(err);
      else resolve();
    };
    redis.on('ready', onReady);
  });
}
