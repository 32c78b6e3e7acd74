// Builds the whole service from a Config (Redis, GitLab or sandbox, providers, queue, HTTP) and stops it in order.
import { Queue, type Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import type { BreakerState, CredentialBreakers } from '../providers/contract.js';
import type { ProviderRegistry } from '../providers/registry.js';
import type { Config, InstanceConfig } from './config/index.js';
import { instance } from './config/instances.js';
import { credentialName, maintainCredentials, managedCredentials, openCredentials, type CredentialStore, type LiveCredentials } from './credentials/index.js';
import { newestKey, type EncryptionKey } from './domain/crypto.js';
import type { Readiness } from './domain/ports.js';
import type { AdminDeps } from './http/admin.js';
import { createApp, createHealthApp } from './http/app.js';
import { listen, type Listening } from './http/server.js';
import type { Logger } from './logger.js';
import { openOperations } from './operations.js';
import { openProviders } from './providers.js';
import { Metrics } from './metrics/index.js';
import { watchCredentials } from './metrics/credentials.js';
import { watchQueues } from './metrics/queues.js';
import { createNotificationWorker, notificationListener, NOTIFY_JOB_OPTIONS, NOTIFY_QUEUE, type NotificationJobData } from './queue/notifications.js';
import { createIntakeWorker } from './queue/fan-out.js';
import { createFeedbackWorker, FEEDBACK_JOB_OPTIONS, FEEDBACK_QUEUE, feedbackListener, FeedbackRequests, type FeedbackJobData } from './queue/feedback.js';
import { INTAKE_JOB_OPTIONS, INTAKE_QUEUE, JOB_OPTIONS, KEY_PREFIX, QUEUE_NAME, type IntakeJobData, type RevocationJobData } from './queue/jobs.js';
import { KEYS } from './keys.js';
import { monitorBreakers, RedisBreakers } from './queue/breakers.js';
import { AuditLog } from './queue/audit.js';
import { Journal } from './queue/journal.js';
import { OutcomeStore } from './queue/outcomes.js';
import { RecordStore } from './queue/records.js';
import { SharedBudgetStore } from './rate-limit/budget-store.js';
import { queueReadings } from './queue/readings.js';
import { UnsettledTokens } from './queue/unsettled.js';
import { IntakeProducer } from './queue/producer.js';
import { connect, producerConnection, warnUnlessNoEviction, workerConnection } from './queue/redis.js';
import { createRevocationWorker } from './queue/worker.js';
import { startEmbeddedRedis } from './runtime/embedded-redis.js';
import { startSandbox, type Sandbox } from './runtime/sandbox.js';

export interface Service {
  /** Where the HTTP API (or, for ROLE=worker, the health endpoints) listens. */
  readonly url: string;
  /**
   * Takes the pre-shared tokens, admin tokens, encryption keys and GitLab credentials of a freshly loaded Config
   * (SIGHUP), without a restart. Everything else keeps its start-up value.
   */
  reloadSecrets(next: Config): void;
  stop(): Promise<void>;
}

/** The secrets that may change while running: read through this holder, never captured at start-up. */
interface Live {
  secrets: Config['secrets'];
}

type Stopper = () => Promise<unknown>;

export async function startService(config: Config, logger: Logger): Promise<Service> {
  const stoppers: Stopper[] = []; // run in reverse order of creation
  try {
    return await build(config, logger, stoppers);
  } catch (err) {
    await stopAll(stoppers, logger, stepBoundMs(config));
    throw err;
  }
}

async function build(config: Config, logger: Logger, stoppers: Stopper[]): Promise<Service> {
  const live: Live = { secrets: config.secrets };
  const redisUrl = config.secrets.redisUrl ?? (await embeddedRedis(config, logger, stoppers));
  const sb = config.sandbox ? await sandbox(config, logger, stoppers) : undefined;
  const instances = sb ? [sb.instance] : config.instances;
  const keys = (): readonly EncryptionKey[] => live.secrets.encryptionKeys;

  const producerRedis = producerConnection(redisUrl);
  producerRedis.on('error', (err: Error) => logger.debug({ err: err.message }, 'redis (producer) connection error'));
  stoppers.push(() => closeConnection(producerRedis));
  await connect(producerRedis).catch((err: Error) => logger.error({ err: err.message }, 'Redis is not reachable; answering 503 until it is'));
  await warnUnlessNoEviction(producerRedis, logger);

  const breakers = new RedisBreakers(producerRedis, logger);
  const credentials = openCredentials(producerRedis, keys, instances, logger);
  const registry = openProviders(config, instances, { redis: producerRedis, breakers, logger, gitlabCredentials: credentials.live, simulators: sb?.simulators });
  stoppers.push(() => registry.close());
  const metrics = processMetrics(config, producerRedis, breakers, credentials, instances, registry, stoppers);

  let worker: Worker | undefined;
  if (config.role !== 'api') {
    // Before the worker: its first job must already use the credential in the store, not a rotated-away one.
    const onRotation = (credential: string, result: string) => metrics.credentialRotations.inc({ credential, result });
    stoppers.push(await maintainCredentials({ config, providers: registry.providers, store: credentials.store, live: credentials.live, logger, onRotation }));
    worker = startWorker(config, logger, redisUrl, registry, keys, stoppers, metrics);
    const stopMonitor = monitorBreakers(breakers, (name) => registry.probe(name), config.breakerRecheckMs, logger);
    stoppers.push(async () => stopMonitor());
  }

  const readiness = (): Promise<Readiness> => checkReadiness(producerRedis, worker, breakers);
  let http: Listening;
  if (config.role === 'worker') {
    http = await listen(createHealthApp(readiness, logger, metrics), config.port, config.host);
  } else {
    const intake = new Queue<IntakeJobData>(INTAKE_QUEUE, { connection: producerRedis, prefix: KEY_PREFIX, defaultJobOptions: INTAKE_JOB_OPTIONS, skipWaitingForReady: true });
    intake.on('error', (err: Error) => logger.debug({ err: err.message }, 'queue (producer) error'));
    stoppers.push(() => intake.close());
    const producer = new IntakeProducer(intake, () => newestKey(keys()));
    const budgets = { get: new SharedBudgetStore(producerRedis, KEYS.rateLimit('get')), post: new SharedBudgetStore(producerRedis, KEYS.rateLimit('post')) };
    // After the HTTP server has closed (stoppers run in reverse), the last locally counted hits reach Redis.
    stoppers.push(async () => void (await Promise.all([budgets.get.flush(), budgets.post.flush()])));
    const admin = adminDeps(config, live, producerRedis, registry, instances, logger, stoppers);
    const app = createApp({
      logger,
      apiTokens: () => live.secrets.apiTokens,
      tokenTypes: registry,
      enqueuer: producer,
      readiness,
      limits: config.limits,
      rateLimit: { postPerMinute: config.rateLimitPerMinute, getPerMinute: config.rateLimitGetPerMinute, store: (name) => budgets[name] },
      trustProxy: config.trustProxy,
      metrics,
      ...(admin ? { admin } : {}),
    });
    http = await listen(app, config.port, config.host);
  }
  stoppers.push(() => http.close(config.shutdownTimeoutMs));
  logger.info({ url: http.url, role: config.role, sandbox: config.sandbox, instances: instances.map((i) => i.name), types: registry.types().length }, 'token revocation service started');
  return { url: http.url, reloadSecrets: (next) => reloadSecrets(live, credentials.live, next, logger), stop: () => stopAll(stoppers, logger, stepBoundMs(config)) };
}

function reloadSecrets(live: Live, gitlab: LiveCredentials, next: Config, logger: Logger): void {
  const before = live.secrets;
  live.secrets = next.secrets;
  const gitlabCredentials = gitlab.reconfigure(managedCredentials(next.instances));
  // Counts and key ids only: never a secret.
  logger.warn(
    {
      apiTokenCount: `${before.apiTokens.length} -> ${next.secrets.apiTokens.length}`,
      adminTokenCount: `${before.adminTokens.length} -> ${next.secrets.adminTokens.length}`,
      encryptionKeys: next.secrets.encryptionKeys.map((k) => k.id),
      gitlabCredentialsChanged: gitlabCredentials,
    },
    'secrets reloaded (SIGHUP): pre-shared tokens, admin tokens, encryption keys and GitLab credentials now come from the new configuration',
  );
}

/** The admin API's Operations, credentials and queues; undefined (and one info line) when ADMIN_API_TOKENS is unset. */
function adminDeps(config: Config, live: Live, redis: Redis, registry: ProviderRegistry, instances: readonly InstanceConfig[], logger: Logger, stoppers: Stopper[]): AdminDeps | undefined {
  if (config.secrets.adminTokens.length === 0) {
    logger.info('ADMIN_API_TOKENS is unset: the admin API and Bull Board (/admin/) are disabled');
    return undefined;
  }
  const ops = openOperations(redis, config, registry, logger, () => live.secrets.encryptionKeys, instances);
  stoppers.push(() => ops.close());
  return { operations: ops.operations, credentials: () => live.secrets.adminTokens, queues: [ops.queues.revocations, ops.queues.intake] };
}

/** This process's Prometheus metrics; the queue and breaker gauges are read from Redis at each scrape (any role). */
function processMetrics(
  config: Config,
  redis: Redis,
  breakers: CredentialBreakers,
  credentials: { store: CredentialStore; live: LiveCredentials },
  instances: readonly InstanceConfig[],
  registry: ProviderRegistry,
  stoppers: Stopper[],
): Metrics {
  const metrics = new Metrics({ token: config.secrets.metricsToken });
  const queues = [QUEUE_NAME, INTAKE_QUEUE, ...(config.secrets.notifyWebhookUrl === undefined ? [] : [NOTIFY_QUEUE]), ...(registry.feedback() === undefined ? [] : [FEEDBACK_QUEUE])];
  // Every configured credential, by the name its breaker and its gauges carry.
  const managed = managedCredentials(instances);
  // GitLab's credentials, and every other provider's (e.g. github:token): a closed breaker is a 0, not a gap.
  const known = [...new Set([...managed.map(credentialName), ...registry.credentials()])];
  stoppers.push(watchQueues(metrics, queueReadings(redis, queues, breakers), queues, known));
  watchCredentials(metrics, credentials.store, credentials.live, managed.map(credentialName), managed.filter((m) => m.rotated).map(credentialName));
  return metrics;
}

function startWorker(config: Config, logger: Logger, redisUrl: string, registry: ProviderRegistry, keys: () => readonly EncryptionKey[], stoppers: Stopper[], metrics: Metrics): Worker {
  const connection = workerConnection(redisUrl);
  connection.on('error', (err: Error) => logger.debug({ err: err.message }, 'redis (worker) connection error'));
  const outcomes = new OutcomeStore(connection, config.outcomeRetentionSeconds);
  const records = new RecordStore(connection, config.recordRetentionSeconds);
  const unsettled = new UnsettledTokens(connection);
  const journal = new Journal(records, new AuditLog(connection, config.recordRetentionSeconds * 1000, logger), unsettled);
  journal.listen({ settled: (result) => metrics.settled(result) });
  const notifications = startNotifications(config, logger, connection, journal);
  const feedback = startFeedback(config, logger, connection, journal, records, registry, metrics);
  const revocations = new Queue<RevocationJobData>(QUEUE_NAME, { connection, prefix: KEY_PREFIX, defaultJobOptions: JOB_OPTIONS });
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
  });
  return worker;
}

/** NOTIFY_WEBHOOK_URL set: terminal results become notification jobs, which this worker delivers. */
function startNotifications(config: Config, logger: Logger, connection: Redis, journal: Journal): { close(): Promise<void> } | undefined {
  const url = config.secrets.notifyWebhookUrl;
  if (url === undefined) return undefined;
  const queue = new Queue<NotificationJobData>(NOTIFY_QUEUE, { connection, prefix: KEY_PREFIX, defaultJobOptions: NOTIFY_JOB_OPTIONS(config.retry.baseDelayMs) });
  queue.on('error', (err: Error) => logger.debug({ err: err.message }, 'queue (notifications) error'));
  journal.listen(notificationListener(queue, config.notify.on, logger));
  const worker = createNotificationWorker({ connection, url, timeoutMs: config.notify.timeoutMs, logger });
  worker.on('error', (err: Error) => logger.warn({ err: err.message }, 'notification worker error'));
  logger.info({ on: config.notify.on }, 'webhook notifications enabled');
  return {
    close: async () => {
      await closeWorker(worker, config.shutdownTimeoutMs, logger);
      await settlesWithin(queue.close(), FORCE_CLOSE_MS);
    },
  };
}

/**
 * Vulnerability feedback on (the caller's provider offers it): settled tokens become feedback jobs, which this worker
 * sends; GraphQL being down never touches a revocation (its own queue, retries and failed set).
 */
function startFeedback(config: Config, logger: Logger, connection: Redis, journal: Journal, records: RecordStore, registry: ProviderRegistry, metrics: Metrics): { requests: FeedbackRequests; close(): Promise<void> } | undefined {
  const port = registry.feedback();
  if (port === undefined) return undefined;
  const queue = new Queue<FeedbackJobData>(FEEDBACK_QUEUE, { connection, prefix: KEY_PREFIX, defaultJobOptions: FEEDBACK_JOB_OPTIONS(config.retry.baseDelayMs) });
  queue.on('error', (err: Error) => logger.debug({ err: err.message }, 'queue (feedback) error'));
  const requests = new FeedbackRequests(queue, connection, port.actions, logger);
  journal.listen(feedbackListener(requests, records));
  const count = (action: string, result: string) => metrics.vulnerabilityFeedback.inc({ action, result });
  const worker = createFeedbackWorker({ connection, port, logger, retentionSeconds: config.outcomeRetentionSeconds, count });
  worker.on('error', (err: Error) => logger.warn({ err: err.message }, 'feedback worker error'));
  logger.info({ actions: port.actions, instance: port.instance }, 'vulnerability feedback enabled');
  return {
    requests,
    close: async () => {
      await closeWorker(worker, config.shutdownTimeoutMs, logger);
      await settlesWithin(queue.close(), FORCE_CLOSE_MS);
    },
  };
}

/** SIGTERM: stop taking jobs, let in-flight ones finish; past the grace period they are left for the stalled-job check. */
async function closeWorker(worker: Worker, graceMs: number, logger: Logger): Promise<void> {
  if (await settlesWithin(worker.close(), graceMs)) return;
  logger.warn({ graceMs }, 'in-flight jobs did not finish in time; they will be picked up again by another worker');
  // close(true) now would only return the close() under way (BullMQ keeps the first), which against an unreachable
  // Redis never ends: cut the worker's connections instead, and do not wait on that either.
  if (!(await settlesWithin(worker.disconnect(), FORCE_CLOSE_MS))) logger.warn('the worker did not disconnect in time; leaving it');
}

/** How long a forced close (a disconnect) may take before shutdown goes on without it. */
const FORCE_CLOSE_MS = 1000;

/** QUIT needs an answer from Redis: only ask a connection that is ready; cut any other at once. */
async function closeConnection(redis: Redis): Promise<void> {
  if (redis.status === 'ready' && (await settlesWithin(redis.quit(), FORCE_CLOSE_MS))) return;
  redis.disconnect();
}

/** True when `work` settles (either way) within `ms`; otherwise false, and `work` is left to itself. */
async function settlesWithin(work: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
  const settled = work.then(() => true as const, () => true as const);
  const result = await Promise.race([settled, timedOut]);
  clearTimeout(timer);
  return result;
}

/** Not ready: Redis down or the worker stopped. Degraded but ready: a credential refused (tokens are still accepted and held). */
async function checkReadiness(redis: Redis, worker: Worker | undefined, breakers: CredentialBreakers): Promise<Readiness> {
  const redisOk = await redis.ping().then(() => true, () => false);
  const checks: Record<string, string> = { redis: redisOk ? 'ok' : 'unreachable' };
  if (worker) checks['worker'] = worker.isRunning() && !worker.closing ? 'running' : 'stopped';
  const open: Readonly<Record<string, BreakerState>> = redisOk ? await breakers.states().catch(() => ({})) : {};
  for (const [name, state] of Object.entries(open)) checks[`credential:${name}`] = `${name.endsWith(':rotation') ? 'cannot be rotated' : 'refused'} since ${state.since} (${state.reason})`;
  return { ready: redisOk && (worker === undefined || checks['worker'] === 'running'), degraded: Object.keys(open).length > 0, checks };
}

async function embeddedRedis(config: Config, logger: Logger, stoppers: Stopper[]): Promise<string> {
  const redis = await startEmbeddedRedis(config.dataDir, logger);
  stoppers.push(() => redis.stop());
  return redis.url;
}

async function sandbox(config: Config, logger: Logger, stoppers: Stopper[]): Promise<{ instance: InstanceConfig; simulators: Sandbox['simulators'] }> {
  const sb = await startSandbox(logger);
  stoppers.push(() => sb.stop());
  const d = config.instanceDefaults;
  return { simulators: sb.simulators, instance: instance({ name: 'sandbox', url: sb.url, adminToken: sb.adminToken, group: undefined, tokenPrefix: undefined, ca: undefined, limits: { perSecond: Math.max(d.perSecond, 100), concurrency: d.concurrency }, strategies: d.strategies, rotation: { admin: undefined, group: undefined } }) };
}

/** The longest one shutdown step may take: the grace period (HTTP or worker) plus a forced close. */
const stepBoundMs = (config: Config): number => config.shutdownTimeoutMs + 2 * FORCE_CLOSE_MS;

/** Runs every stopper, each bounded: a step that hangs (a dead Redis never answers) must not keep the others from running. */
async function stopAll(stoppers: Stopper[], logger: Logger, boundMs: number): Promise<void> {
  for (const stop of stoppers.splice(0).reverse()) {
    const step = stop().catch((err: Error) => logger.warn({ err: err.message }, 'error while stopping'));
    if (!(await settlesWithin(step, boundMs))) logger.warn({ boundMs }, 'a shutdown step did not finish in time; going on without it');
  }
}
