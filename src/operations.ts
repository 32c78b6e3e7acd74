// Builds the on-call Operations over a Redis connection: used by the admin HTTP API (in the service) and by the CLI.
import { Queue } from 'bullmq';
import type { Cluster, Redis } from 'ioredis';
import { vulnerabilityFeedbackActions, type Config, type InstanceConfig } from './config/index.js';
import type { EncryptionKey } from './domain/crypto.js';
import type { Operations, TokenTypes } from './domain/ports.js';
import type { Logger } from './logger.js';
import { AuditLog } from './queue/audit.js';
import { RedisBreakers } from './queue/breakers.js';
import { FEEDBACK_JOB_OPTIONS, FEEDBACK_QUEUE, FeedbackRequests, type FeedbackJobData } from './queue/feedback.js';
import { INTAKE_QUEUE, KEY_PREFIX, QUEUE_NAME, QUEUE_STREAMS, type IntakeJobData, type RevocationJobData } from './queue/jobs.js';
import { QueueOperations } from './queue/operations.js';
import { OutcomeStore } from './queue/outcomes.js';
import { RecordStore } from './queue/records.js';
import { ReplicaGate } from './queue/redis.js';
import { UnsettledTokens } from './queue/unsettled.js';
import { credentialStatus, CredentialStore } from './credentials/index.js';

export interface OpenOperations {
  readonly operations: Operations;
  /** The queues the operations work on (Bull Board shows them, read-only). */
  readonly queues: { readonly revocations: Queue<RevocationJobData>; readonly intake: Queue<IntakeJobData> };
  close(): Promise<void>;
}

/**
 * `instances`: the service passes its own list (sandbox mode adds the simulator); the CLI reads the configured one.
 * `replicas`: how many replicas must have a replay or resolve before it is confirmed (REDIS_MIN_REPLICAS_ACK as it
 * applies); the WAIT goes on `redis`, which every write of the operations uses, so give them a connection of their own.
 */
export function openOperations(
  redis: Redis | Cluster,
  config: Config,
  tokenTypes: TokenTypes,
  logger: Logger,
  keys: () => readonly EncryptionKey[] = () => config.secrets.encryptionKeys,
  instances?: readonly InstanceConfig[],
  replicas = 0,
): OpenOperations {
  const store = new CredentialStore(redis, keys);
  const revocations = new Queue<RevocationJobData>(QUEUE_NAME, { connection: redis, prefix: KEY_PREFIX, streams: QUEUE_STREAMS });
  const intake = new Queue<IntakeJobData>(INTAKE_QUEUE, { connection: redis, prefix: KEY_PREFIX, streams: QUEUE_STREAMS });
  // `trapi resolve` makes a note on the token's vulnerabilities too, when the workers write feedback.
  const actions = vulnerabilityFeedbackActions(config, instances ?? config.instances);
  const feedbackQueue = actions.length > 0 ? new Queue<FeedbackJobData>(FEEDBACK_QUEUE, { connection: redis, prefix: KEY_PREFIX, streams: QUEUE_STREAMS, defaultJobOptions: FEEDBACK_JOB_OPTIONS }) : undefined;
  for (const q of [revocations, intake, ...(feedbackQueue ? [feedbackQueue] : [])]) q.on('error', (err: Error) => logger.debug({ err: err.message }, 'queue (operations) error'));
  const operations = new QueueOperations({
    redis,
    revocations,
    intake,
    records: new RecordStore(redis, config.recordRetentionSeconds),
    audit: new AuditLog(redis, config.recordRetentionSeconds * 1000, logger),
    outcomes: new OutcomeStore(redis, config.outcomeRetentionSeconds),
    unsettled: new UnsettledTokens(redis),
    breakers: new RedisBreakers(redis, logger),
    tokenTypes,
    keys,
    credentials: { status: () => credentialStatus(store, instances ?? config.instances), rekey: () => store.rekey() },
    feedback: feedbackQueue && new FeedbackRequests(feedbackQueue, redis, actions, logger),
    replicated: new ReplicaGate(redis, replicas),
  });
  return { operations, queues: { revocations, intake }, close: async () => void (await Promise.all([revocations.close(), intake.close(), feedbackQueue?.close()])) };
}
