// Builds the whole service from a Config (Redis, GitLab or sandbox, providers, queue, HTTP) and stops it in order.
import type { Worker } from 'bullmq';
import type { Cluster, Redis } from 'ioredis';
import type { CredentialBreakers } from '../providers/contract.js';
import type { ProviderRegistry } from '../providers/registry.js';
import type { Config, InstanceConfig } from './config/index.js';
import { credentialName, managedCredentials, openCredentials, type CredentialStore, type LiveCredentials } from './credentials/index.js';
import type { EncryptionKey } from './domain/crypto.js';
import type { Readiness } from './domain/ports.js';
import { createHealthApp } from './http/app.js';
import { listen, type Listening } from './http/server.js';
import type { Logger } from './logger.js';
import { openProviders } from './providers.js';
import { Metrics } from './metrics/index.js';
import { watchCredentials } from './metrics/credentials.js';
import { watchQueues } from './metrics/queues.js';
import { NOTIFY_QUEUE } from './queue/notifications.js';
import { FEEDBACK_QUEUE } from './queue/feedback.js';
import { INTAKE_QUEUE, QUEUE_NAME } from './queue/jobs.js';
import { RedisBreakers } from './queue/breakers.js';
import { queueReadings } from './queue/readings.js';
import { connect, producerConnectionTo, ReplicaGate, replicasToAck, type RedisClient, type RedisTarget } from './queue/redis.js';
import { noteUnlessCompact, warnUnlessNoEviction } from './queue/redis-settings.js';
import { useKeyPrefixFor } from './keys.js';
import { COMPACT_ENCODING, startEmbeddedRedis } from './runtime/embedded-redis.js';
import { startSandbox, type Sandbox } from './runtime/sandbox.js';
import { provisionSandboxSecrets, reloadedSandboxSecrets } from './runtime/sandbox-secrets.js';
import { startApiRole, type LiveSecrets } from './service/api-role.js';
import { closeConnection, stepBoundMs, stopAll, type Stopper } from './service/lifecycle.js';
import { checkReadiness } from './service/readiness.js';
import { startWorkerRole } from './service/worker-role.js';

export interface Service {
  /** Where the HTTP API (or, for ROLE=worker, the health endpoints) listens. */
  readonly url: string;
  /**
   * Takes the pre-shared tokens, admin tokens, encryption keys and GitLab credentials of a freshly loaded Config
   * (SIGHUP), without a restart. Everything else keeps its start-up value.
   */
  reloadSecrets(next: Config): void;
  /** Sandbox mode: the inbound token this start generated (the first start in its DATA_DIR), to be printed once. */
  readonly newSandboxApiToken: string | undefined;
  stop(): Promise<void>;
}

export async function startService(loaded: Config, logger: Logger): Promise<Service> {
  const stoppers: Stopper[] = []; // run in reverse order of creation
  // Sandbox mode: the secrets left unset are generated (first start) or read back; reloads never write them.
  const config = provisionSandboxSecrets(loaded);
  try {
    return await build(config, logger, stoppers);
  } catch (err) {
    await stopAll(stoppers, logger, stepBoundMs(config.shutdownTimeoutMs));
    throw err;
  }
}

async function build(config: Config, logger: Logger, stoppers: Stopper[]): Promise<Service> {
  const live: LiveSecrets = { secrets: config.secrets };
  const target: RedisTarget = config.secrets.redis ?? { kind: 'single', url: await embeddedRedis(config, logger, stoppers) };
  // Before any key is built: on a cluster every key carries the hash tag.
  useKeyPrefixFor(target.kind);
  const sb = config.sandbox ? await sandbox(config, logger, stoppers) : undefined;
  const instances = sb ? [sb.instance] : config.instances;
  const keys = (): readonly EncryptionKey[] => live.secrets.encryptionKeys;

  // Fail-fast connections (a request must never hang), each following the master through a failover by itself.
  // Connected before use: without an offline queue a command sent while connecting fails. Unreachable: logged once
  // (503 until it is), and retryStrategy keeps reconnecting.
  const connection = async (name: string, forQueues = false): Promise<RedisClient> => {
    const redis = producerConnectionTo(target, {}, forQueues);
    redis.on('error', (err: Error) => logger.debug({ err: err.message }, `redis (${name}) connection error`));
    stoppers.push(() => closeConnection(redis));
    await connect(redis).catch((err: Error) => logger.error({ err: err.message, connection: name }, 'Redis is not reachable; answering 503 until it is'));
    return redis;
  };
  const redis = await connection('producer');
  await warnUnlessNoEviction(redis, logger);
  await noteUnlessCompact(redis, logger, COMPACT_ENCODING);
  const replicas = await replicasToAck(redis, config.minReplicasAck, target.kind !== 'single', !config.sandbox, logger);

  const breakers = new RedisBreakers(redis, logger);
  // The credential store writes on a connection of its own: a WAIT for a stored successor blocks only it.
  const credentialRedis = config.role === 'api' ? redis : await connection('credentials');
  const credentials = openCredentials(credentialRedis, keys, instances, logger, new ReplicaGate(credentialRedis, replicas));
  const registry = openProviders(config, instances, { redis, breakers, logger, gitlabCredentials: credentials.live, simulators: sb?.simulators });
  stoppers.push(() => registry.close());
  // The gauges' BullMQ queues on a connection of their own: BullMQ defines its scripts on the connection it is given,
  // and ioredis copies each of them into every pipeline made on it, which the shared connection makes for every
  // event-loop tick's commands (auto-pipelining: the limiter's, the breakers', the rate limits').
  const metrics = processMetrics(config, await connection('readings', true), breakers, credentials, instances, registry, stoppers);

  const worker: Worker | undefined = config.role === 'api' ? undefined : await startWorkerRole({ config, logger, target, registry, keys, breakers, credentials, metrics, stoppers });
  const readiness = (): Promise<Readiness> => checkReadiness(redis, worker, breakers);
  const http: Listening =
    config.role === 'worker'
      ? await listen(createHealthApp(readiness, logger, metrics), config.port, config.host)
      : await startApiRole({ config, live, logger, redis, connection, replicas, registry, instances, readiness, metrics, stoppers });
  stoppers.push(() => http.close(config.shutdownTimeoutMs));
  logger.info({ url: http.url, role: config.role, sandbox: config.sandbox, instances: instances.map((i) => i.name), types: registry.types().length }, 'token revocation service started');
  return {
    url: http.url,
    reloadSecrets: (next) => reloadSecrets(live, credentials.live, reloadedSandboxSecrets(next, live.secrets), logger),
    newSandboxApiToken: config.newSandboxApiToken,
    stop: () => stopAll(stoppers, logger, stepBoundMs(config.shutdownTimeoutMs)),
  };
}

function reloadSecrets(live: LiveSecrets, gitlab: LiveCredentials, next: Config, logger: Logger): void {
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

/** This process's Prometheus metrics; the queue and breaker gauges are read from Redis at each scrape (any role). */
function processMetrics(
  config: Config,
  readingsRedis: Redis | Cluster,
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
  stoppers.push(watchQueues(metrics, queueReadings(readingsRedis, queues, breakers), queues, known));
  watchCredentials(metrics, credentials.store, credentials.live, managed.map(credentialName), managed.filter((m) => m.rotated).map(credentialName));
  return metrics;
}

async function embeddedRedis(config: Config, logger: Logger, stoppers: Stopper[]): Promise<string> {
  const redis = await startEmbeddedRedis(config.dataDir, logger);
  stoppers.push(() => redis.stop());
  return redis.url;
}

async function sandbox(config: Config, logger: Logger, stoppers: Stopper[]): Promise<Sandbox> {
  const sb = await startSandbox(config.instanceDefaults, logger);
  stoppers.push(() => sb.stop());
  return sb;
}
