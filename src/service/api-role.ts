// The API role: the intake producer, the shared rate-limit budgets, the admin API and the Express app on its port.
import { getHeapStatistics } from 'node:v8';
import { Queue } from 'bullmq';
import type { Cluster, Redis } from 'ioredis';
import type { ProviderRegistry } from '../../providers/registry.js';
import type { Config, InstanceConfig } from '../config/index.js';
import { newestKey } from '../domain/crypto.js';
import type { Readiness } from '../domain/ports.js';
import type { AdminDeps } from '../http/admin.js';
import { createApp } from '../http/app.js';
import { listen, type Listening } from '../http/server.js';
import type { Logger } from '../logger.js';
import type { Metrics } from '../metrics/index.js';
import { openOperations } from '../operations.js';
import { INTAKE_JOB_OPTIONS, INTAKE_QUEUE, JOB_OPTIONS, KEY_PREFIX, QUEUE_NAME, QUEUE_STREAMS, type IntakeJobData, type RevocationJobData } from '../queue/jobs.js';
import { OutcomeStore } from '../queue/outcomes.js';
import { IntakeProducer } from '../queue/producer.js';
import { RecordStore } from '../queue/records.js';
import { UnsettledTokens } from '../queue/unsettled.js';
import { SharedBudgetStore } from '../rate-limit/budget-store.js';
import { KEYS } from '../keys.js';
import { ReplicaGate, type RedisClient } from '../queue/redis.js';
import type { Stopper } from './lifecycle.js';

/** The secrets that may change while running: read through this holder, never captured at start-up. */
export interface LiveSecrets {
  secrets: Config['secrets'];
}

export interface ApiRoleDeps {
  readonly config: Config;
  readonly live: LiveSecrets;
  readonly logger: Logger;
  /** The producer connection (fail-fast, no offline queue). */
  readonly redis: Redis | Cluster;
  /**
   * Opens another fail-fast connection (closed at stop): for writes confirmed with WAIT, which blocks its connection.
   * `forQueues`: BullMQ queues will use it.
   */
  readonly connection: (name: string, forQueues?: boolean) => Promise<RedisClient>;
  /** Replicas that must have an accepted batch, replay or resolve before it is confirmed (REDIS_MIN_REPLICAS_ACK). */
  readonly replicas: number;
  readonly registry: ProviderRegistry;
  readonly instances: readonly InstanceConfig[];
  readonly readiness: () => Promise<Readiness>;
  readonly metrics: Metrics;
  readonly stoppers: Stopper[];
}

/** Starts the API role and listens on PORT. */
export async function startApiRole(d: ApiRoleDeps): Promise<Listening> {
  const { config, live, logger, redis, registry, stoppers } = d;
  // The intake jobs, and the WAIT that confirms them, on a connection of their own: the WAIT blocks it meanwhile, and
  // counts only the writes made on it. The rate-limit counters stay on the shared one, never behind a WAIT.
  const intakeRedis = await d.connection('intake', true);
  // The revocation jobs of small requests, and their records, are written there too: one WAIT confirms them all.
  const intake = new Queue<IntakeJobData>(INTAKE_QUEUE, { connection: intakeRedis, prefix: KEY_PREFIX, streams: QUEUE_STREAMS, defaultJobOptions: INTAKE_JOB_OPTIONS, skipWaitingForReady: true });
  const revocations = new Queue<RevocationJobData>(QUEUE_NAME, { connection: intakeRedis, prefix: KEY_PREFIX, streams: QUEUE_STREAMS, defaultJobOptions: JOB_OPTIONS, skipWaitingForReady: true });
  for (const q of [intake, revocations]) {
    q.on('error', (err: Error) => logger.debug({ err: err.message }, 'queue (producer) error'));
    stoppers.push(() => q.close());
  }
  const admission = {
    revocations,
    outcomes: new OutcomeStore(intakeRedis, config.outcomeRetentionSeconds),
    records: new RecordStore(intakeRedis, config.recordRetentionSeconds),
    unsettled: new UnsettledTokens(intakeRedis),
  };
  const producer = new IntakeProducer(intake, () => newestKey(live.secrets.encryptionKeys), new ReplicaGate(intakeRedis, d.replicas), { admission, logger });
  const budgets = { get: new SharedBudgetStore(redis, KEYS.rateLimit('get')), post: new SharedBudgetStore(redis, KEYS.rateLimit('post')) };
  // After the HTTP server has closed (stoppers run in reverse), the last locally counted hits reach Redis.
  stoppers.push(async () => void (await Promise.all([budgets.get.flush(), budgets.post.flush()])));
  const admin = await adminDeps(d);
  const app = createApp({
    logger,
    apiTokens: () => live.secrets.apiTokens,
    tokenTypes: registry,
    enqueuer: producer,
    readiness: d.readiness,
    limits: { ...config.limits, maxInflightBodyBytes: inflightBodyBytes(config.limits.maxBodyBytes) },
    rateLimit: { postPerMinute: config.rateLimitPerMinute, getPerMinute: config.rateLimitGetPerMinute, store: (name) => budgets[name] },
    trustProxy: config.trustProxy,
    metrics: d.metrics,
    ...(admin ? { admin } : {}),
  });
  return listen(app, config.port, config.host);
}

/** The admin API's Operations, credentials and queues; undefined (and one info line) when ADMIN_API_TOKENS is unset. */
async function adminDeps({ config, live, connection, replicas, registry, instances, logger, stoppers }: ApiRoleDeps): Promise<AdminDeps | undefined> {
  if (config.secrets.adminTokens.length === 0) {
    logger.info('ADMIN_API_TOKENS is unset: the admin API and Bull Board (/admin/) are disabled');
    return undefined;
  }
  // Replays and resolves are confirmed with a WAIT on the operations' connection: one of their own.
  const ops = openOperations(await connection('operations', true), config, registry, logger, () => live.secrets.encryptionKeys, instances, replicas);
  stoppers.push(() => ops.close());
  return { operations: ops.operations, credentials: () => live.secrets.adminTokens, queues: [ops.queues.revocations, ops.queues.intake] };
}

/**
 * The bytes of request bodies an API process holds at once (see jsonBody): a body costs about 12 times its size in heap
 * on its way to the intake job (15 MB bodies: about 180 MB each, measured), so half of the heap's hard limit
 * (`--max-old-space-size` in npm start's command, README "Memory") goes to bodies in flight; never less than one
 * largest body, which is always taken alone.
 */
function inflightBodyBytes(maxBodyBytes: number): number {
  return Math.max(maxBodyBytes, Math.floor(getHeapStatistics().heap_size_limit / 24));
}
