// Builds the provider registry from a Config: the one place the service, its workers and the CLI get their providers.
import type { Cluster, Redis } from 'ioredis';
import type { CredentialBreakers, CredentialSource, ProviderServices } from '../providers/contract.js';
import { buildProviders } from '../providers/index.js';
import { ProviderRegistry } from '../providers/registry.js';
import type { Config, InstanceConfig } from './config/index.js';
import type { Logger } from './logger.js';
import { packageVersion } from './paths.js';
import { RedisCallBudget } from './queue/call-budget.js';
import { RedisOutboundLimiter, outageWaitFor } from './queue/outbound-limiter.js';
import { RedisProviderState } from './queue/provider-state.js';

export interface ProviderWiring {
  readonly redis: Redis | Cluster;
  readonly breakers: CredentialBreakers;
  readonly logger: Logger;
  /** The GitLab credentials in use now (the live store in the service, the configured ones in the CLI). */
  readonly gitlabCredentials: CredentialSource;
  /** Sandbox mode: the vendors' simulators by provider name, used instead of any configured URL (nothing may reach the internet). */
  readonly simulators?: Readonly<Record<string, string>> | undefined;
}

/** Every enabled provider over `instances` (the configured ones, or the sandbox's). Sends nothing by itself. */
export function openProviders(config: Config, instances: readonly InstanceConfig[], wiring: ProviderWiring): ProviderRegistry {
  const { redis, breakers, logger } = wiring;
  const budget = new RedisCallBudget(redis);
  const userAgent = `token-revocation-api/${packageVersion()}`;
  const services = (provider: string, timeoutMs: number): ProviderServices => ({
    // A lease outlives the provider's longest call, so a crashed holder frees its slot by itself. A caller waits for an
    // unreachable Redis only while its job's lock surely holds.
    limiter: new RedisOutboundLimiter(redis, timeoutMs + 5000, outageWaitFor(config.jobLockMs)),
    budget,
    breakers,
    state: new RedisProviderState(redis, provider),
    logger: logger.child({ provider }),
    userAgent,
  });
  const simulators = wiring.simulators;
  return new ProviderRegistry(buildProviders({ config, instances, gitlabCredentials: wiring.gitlabCredentials, services, simulator: simulators && ((name) => simulators[name]) }));
}
