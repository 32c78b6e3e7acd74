// trapi's resources: the configuration, the Redis connection, the Operations and provider registry, and their release.
import type { Cluster, Redis } from 'ioredis';
import type { ProviderRegistry } from '../../providers/registry.js';
import { configuredCredentials } from '../../providers/contract.js';
import { loadConfig, type Config, type InstanceConfig } from '../config/index.js';
import type { Operations, TokenTypes } from '../domain/ports.js';
import { AppError, ConfigError } from '../errors.js';
import type { Logger } from '../logger.js';
import { openOperations } from '../operations.js';
import { RedisBreakers } from '../queue/breakers.js';
import { producerConnectionTo, replicasToAck, type RedisClient, type RedisTarget } from '../queue/redis.js';
import { useKeyPrefixFor } from '../keys.js';
import { openProviders } from '../providers.js';
import { embeddedRedisUrl } from '../runtime/embedded-redis.js';
import { SANDBOX_PLACEHOLDER, sandboxInstance } from '../runtime/sandbox.js';
import { storedSandboxSecrets } from '../runtime/sandbox-secrets.js';

/**
 * The service's configuration; in sandbox mode with the secrets the service's first start stored (the CLI writes
 * none: a CLI run before that first start must leave the generating, and printing, of the credential to the service).
 */
export function readConfig(env: NodeJS.ProcessEnv): Config {
  try {
    return storedSandboxSecrets(loadConfig(env));
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    throw new AppError('invalid_configuration', `could not read the configuration: ${(err as Error).message}`);
  }
}

// ---- Redis and the Operations ----------------------------------------------------------------------------------------

export interface Resources {
  readonly config: Config;
  readonly logger: Logger;
  redis?: Redis | Cluster;
  ops?: Promise<Operations>;
  closeOps?: () => Promise<void>;
  registry?: ProviderRegistry;
}

/** The service's Redis: REDIS_URL, the sentinels or the cluster nodes, else the embedded one the service recorded. */
function redisTargetOf(config: Config): RedisTarget {
  if (config.secrets.redis) return config.secrets.redis;
  const url = embeddedRedisUrl(config.dataDir);
  if (url === undefined) {
    throw new AppError('redis_unknown', `no running service found: REDIS_URL is unset and no embedded Redis is recorded under ${config.dataDir}; start the service (npm start) from this directory, set DATA_DIR to its data folder, or set REDIS_URL`);
  }
  return { kind: 'single', url };
}

/** A fail-fast connection (no offline queue, short timeouts), created once and closed by `release`. */
function redisOf(res: Resources, target: RedisTarget): RedisClient {
  if (!res.redis) {
    // The service's keys: on a cluster they carry the hash tag.
    useKeyPrefixFor(target.kind);
    res.redis = producerConnectionTo(target);
    res.redis.on('error', (err: Error) => res.logger.debug({ err: err.message }, 'redis (cli) connection error'));
  }
  return res.redis;
}

/**
 * Ready, or the first connection error (refused, wrong password, 2 s connect timeout): at 3 a.m. the cause beats a
 * timeout. ioredis's own connect() settles on either; src/queue/redis.ts connect() waits for ready behind a timer that would
 * keep a failed CLI process alive for its whole length.
 */
async function connectOrFirstError(redis: Redis | Cluster): Promise<void> {
  let cause: Error | undefined;
  const remember = (err: Error) => (cause ??= err);
  redis.on('error', remember);
  try {
    if (redis.status === 'wait') await redis.connect();
  } catch (err) {
    throw cause ?? err; // "Connection is closed." says less than the error that closed it
  } finally {
    redis.off('error', remember);
  }
}

export function operationsOf(res: Resources): Promise<Operations> {
  res.ops ??= (async () => {
    const target = redisTargetOf(res.config);
    const redis = redisOf(res, target);
    try {
      await connectOrFirstError(redis);
    } catch (err) {
      throw new AppError('redis_unreachable', `cannot reach Redis at ${where(target)} (${(err as Error).message}); is the service (and its Redis) running? check REDIS_URL / REDIS_SENTINELS / REDIS_CLUSTER_NODES / DATA_DIR`);
    }
    // A replay or resolve is confirmed as the service confirms one: once the replicas have it.
    const replicas = await replicasToAck(redis, res.config.minReplicasAck, target.kind !== 'single', false, res.logger.child({}, { level: 'warn' }));
    // The instances the service itself runs with (sandbox mode adds the simulator), so that status reports the same
    // credentials as /admin/status.
    const opened = openOperations(redis, res.config, lazyTokenTypes(res), res.logger, undefined, instancesOf(res.config), replicas);
    res.closeOps = opened.close;
    return opened.operations;
  })();
  return res.ops;
}

/** The same provider registry as the service, so `types` lists what GET /v1/revocable_token_types answers. */
export function registryOf(res: Resources): Promise<ProviderRegistry> {
  if (!res.registry) {
    const { config } = res;
    // Building the providers sends nothing to Redis: a never-connected client is enough when there is no URL.
    const redis = redisOf(res, config.secrets.redis ?? { kind: 'single', url: embeddedRedisUrl(config.dataDir) ?? 'redis://127.0.0.1:6379' });
    const instances = instancesOf(config);
    // Its "no admin credential" warning is for the service's log, not for each CLI call.
    const quiet = res.logger.child({}, { level: 'error' });
    res.registry = openProviders(config, instances, { redis, breakers: new RedisBreakers(redis, quiet), logger: quiet, gitlabCredentials: configuredCredentials(instances) });
  }
  return Promise.resolve(res.registry);
}

/** Operations needs TokenTypes only for `types()`, which the `types` command answers from `registryOf` directly. */
function lazyTokenTypes(res: Resources): TokenTypes {
  const registry = (): ProviderRegistry => {
    if (!res.registry) throw new Error('token types not loaded');
    return res.registry;
  };
  return { types: () => registry().types(), supports: (type) => registry().supports(type) };
}

/** The instances as the service sees them: the configured ones, or in sandbox mode the simulator it adds (not started here). */
const instancesOf = (config: Config): readonly InstanceConfig[] => (config.sandbox ? [sandboxInstance(config.instanceDefaults, SANDBOX_PLACEHOLDER)] : config.instances);

export async function release(res: Resources): Promise<void> {
  await res.ops?.catch(() => undefined);
  await res.closeOps?.().catch(() => undefined);
  const redis = res.redis;
  if (redis) {
    if (redis.status === 'ready') await redis.quit().catch(() => redis.disconnect());
    else redis.disconnect();
  }
}

/** host:port of the Redis (or its first sentinel or seed node), never its password. */
function where(target: RedisTarget): string {
  if (target.kind === 'sentinel') return `the master "${target.name}" of the sentinels at ${target.sentinels.map((s) => `${s.host}:${s.port}`).join(',')}`;
  if (target.kind === 'cluster') return `the cluster at ${target.nodes.map((s) => `${s.host}:${s.port}`).join(',')}`;
  const { url } = target;
  try {
    return new URL(url).host || url.replace(/\/\/[^@]*@/, '//');
  } catch {
    return 'the configured URL';
  }
}
