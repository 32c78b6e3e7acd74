// The worker role: credential upkeep, the intake and revocation workers, notifications, vulnerability feedback and the
// breaker monitor, on a connection of their own.
import { Queue, type Worker } from 'bullmq';
import type { Cluster, Redis } from 'ioredis';
import type { ProviderRegistry } from '../../providers/registry.js';
import type { Config } from '../config/index.js';
import { maintainCredentials, type CredentialStore, type LiveCredentials } from '../credentials/index.js';
import type { EncryptionKey } from '../domain/crypto.js';
import type { Logger } from '../logger.js';
import type { Metrics } from '../metrics/index.js';
import { AuditLog } from '../queue/audit.js';
import { monitorBreakers, type RedisBreakers } from '../queue/breakers.js';
import { createIntakeWorker } from '../queue/fan-out.js';
import { createFeedbackWorker, FEEDBACK_JOB_OPTIONS, FEEDBACK_QUEUE, feedbackListener, FeedbackRequests, type FeedbackJobData } from '../queue/feedback.js';
import { JOB_OPTIONS, KEY_PREFIX, QUEUE_NAME, QUEUE_STREAMS, type RevocationJobData } from '../queue/jobs.js';
import { Journal } from '../queue/journal.js';
import { createNotificationWorker, notificationListener, NOTIFY_JOB_OPTIONS, NOTIFY_QUEUE, type NotificationJobData } from '../queue/notifications.js';
import { OutcomeStore } from '../queue/outcomes.js';
import { RecordStore } from '../queue/records.js';
import { workerConnectionTo, type RedisTarget } from '../queue/redis.js';
import { UnsettledTokens } from '../queue/unsettled.js';
import { createRevocationWorker } from '../queue/worker.js';
import { closeWorker, FORCE_CLOSE_MS, settlesWithin, type Stopper } from './lifecycle.js';

export interface WorkerRoleDeps {
  readonly config: Config;
  readonly logger: Logger;
  /** Where the workers connect (they wait out a failover, reconnecting to the new master). */
  readonly target: RedisTarget;
  readonly registry: ProviderRegistry;
  readonly keys: () => readonly EncryptionKey[];
  readonly breakers: RedisBreakers;
  readonly credentials: { readonly store: CredentialStore; readonly live: LiveCredentials };
  readonly metrics: Metrics;
  /** Where each part leaves how to stop it (run in reverse). */
  readonly stoppers: Stopper[];
}

/** Starts the worker role; returns the revocation worker, whose state readiness reports. */
export async function startWorkerRole(d: WorkerRoleDeps): Promise<Worker> {
  const { config, logger, registry, breakers, credentials, metrics, stoppers } = d;
  // Before the worker: its first job must already use the credential in the store, not a rotated-away one.
  const onRotation = (credential: string, result: string) => metrics.credentialRotations.inc({ credential, result });
  stoppers.push(await maintainCredentials({ config, providers: registry.providers, store: credentials.store, live: credentials.live, logger, onRotation }));
  const worker = startWorkers(d);
  const stopMonitor = monitorBreakers(breakers, (name) => registry.probe(name), config.breakerRecheckMs, logger);
  stoppers.push(async () => stopMonitor());
  return worker;
}

function startWorkers({ config, logger, target, registry, keys, metrics, stoppers }: WorkerRoleDeps): Worker {
  const connection = workerConnectionTo(target);
  connection.on('error', (err: Error) => logger.debug({ err: err.message }, 'redis (worker) connection error'));
  // The records, outcomes and audit trail on a connection of their own, without BullMQ's scripts: ioredis copies every
  // script defined on a connection into each MULTI made on it, and BullMQ defines dozens (a token's three MULTIs cost
  // more CPU to make than to send). Every write of theirs is awaited before a job moves, so order is kept.
  const stores = workerConnectionTo(target);
  stores.on('error', (err: Error) => logger.debug({ err: err.message }, 'redis (worker stores) connection error'));
  const outcomes = new OutcomeStore(stores, config.outcomeRetentionSeconds);
  const records = new RecordStore(stores, config.recordRetentionSeconds);
  const unsettled = new UnsettledTokens(stores);
  const journal = new Journal(records, new AuditLog(stores, config.recordRetentionSeconds * 1000, logger), unsettled);
  journal.listen({ settled: (result) => metrics.settled(result) });
  const notifications = startNotifications(config, logger, connection, journal);
  const feedback = startFeedback(config, logger, connection, journal, records, registry, metrics);
  const revocations = new Queue<RevocationJobData>(QUEUE_NAME, { connection, prefix: KEY_PREFIX, streams: QUEUE_STREAMS, defaultJobOptions: JOB_OPTIONS });
  revocations.on('error', (err: Error) => logger.debug({ err: err.message }, 'queue (fan-out) error'));
  const intake = createIntakeWorker({ connection, revocations, outcomes, records, unsettled, keys, logger, retry: config.retry, feedback: feedback?.requests });
  intake.on('error', (err: Error) => logger.warn({ err: err.message }, 'intake worker error'));
  const worker = createRevocationWorker({
    connection,
    registry,
    outcomes,
    journal,
    keys,
    logger,
    concurrency: config.workerConcurrency,
    lockMs: config.jobLockMs,
    retry: config.retry,
    holdMs: config.breakerRecheckMs,
    metrics,
    feedback: feedback?.requests,
  });
  worker.on('error', (err: Error) => logger.warn({ err: err.message }, 'worker error'));
  stoppers.push(async () => {
    // Side by side, so that the grace period is spent once, not once per worker.
    await Promise.all([closeWorker(intake, config.shutdownTimeoutMs, logger), closeWorker(worker, config.shutdownTimeoutMs, logger), notifications?.close(), feedback?.close()]);
    await settlesWithin(revocations.close(), FORCE_CLOSE_MS);
    connection.disconnect();
    stores.disconnect();
  });
  return worker;
}

/** NOTIFY_WEBHOOK_URL set: terminal results become notification jobs, which this worker delivers. */
function startNotifications(config: Config, logger: Logger, connection: Redis | Cluster, journal: Journal): { close(): Promise<void> } | undefined {
  const url = config.secrets.notifyWebhookUrl;
  if (url === undefined) return undefined;
  const queue = new Queue<NotificationJobData>(NOTIFY_QUEUE, { connection, prefix: KEY_PREFIX, streams: QUEUE_STREAMS, defaultJobOptions: NOTIFY_JOB_OPTIONS });
  queue.on('error', (err: Error) => logger.debug({ err: err.message }, 'queue (notifications) error'));
  journal.listen(notificationListener(queue, config.notify.on, logger));
  const worker = createNotificationWorker({ connection, url, timeoutMs: config.notify.timeoutMs, logger, retryBaseDelayMs: config.retry.baseDelayMs });
  worker.on('error', (err: Error) => logger.warn({ err: err.message }, 'notification worker error'));
  logger.info({ on: config.notify.on }, 'webhook notifications enabled');
  return { close: () => closeFollowUp(worker, queue, config, logger) };
}

/**
 * Vulnerability feedback on (the caller's provider offers it): settled tokens become feedback jobs, which this worker
 * sends; GraphQL being down never touches a revocation (its own queue, retries and failed set).
 */
function startFeedback(config: Config, logger: Logger, connection: Redis | Cluster, journal: Journal, records: RecordStore, registry: ProviderRegistry, metrics: Metrics): { requests: FeedbackRequests; close(): Promise<void> } | undefined {
  const port = registry.feedback();
  if (port === undefined) return undefined;
  const queue = new Queue<FeedbackJobData>(FEEDBACK_QUEUE, { connection, prefix: KEY_PREFIX, streams: QUEUE_STREAMS, defaultJobOptions: FEEDBACK_JOB_OPTIONS });
  queue.on('error', (err: Error) => logger.debug({ err: err.message }, 'queue (feedback) error'));
  const requests = new FeedbackRequests(queue, connection, port.actions, logger);
  journal.listen(feedbackListener(requests, records));
  const count = (action: string, result: string) => metrics.vulnerabilityFeedback.inc({ action, result });
  const worker = createFeedbackWorker({ connection, port, logger, retentionSeconds: config.outcomeRetentionSeconds, count, retryBaseDelayMs: config.retry.baseDelayMs });
  worker.on('error', (err: Error) => logger.warn({ err: err.message }, 'feedback worker error'));
  logger.info({ actions: port.actions, instance: port.instance }, 'vulnerability feedback enabled');
  return { requests, close: () => closeFollowUp(worker, queue, config, logger) };
}

/** A follow-up queue (notifications, feedback): its worker within the grace period, then its queue. */
async function closeFollowUp(worker: Worker, queue: Queue, config: Config, logger: Logger): Promise<void> {
  await closeWorker(worker, config.shutdownTimeoutMs, logger);
  await settlesWithin(queue.close(), FORCE_CLOSE_MS);
}
