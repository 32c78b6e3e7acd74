// Builds the provider registry from a Config: the one place the service, its workers and the CLI get their providers.
import type { Redis } from 'ioredis';
import type { CredentialBreakers, CredentialSource, ProviderServices } from '../providers/contract.js';
import { buildProviders } from '../providers/index.js';
import { ProviderRegistry } from '../providers/registry.js';
import { vulnerabilityFeedbackActions, type Config, type InstanceConfig } from './config/index.js';
import type { Logger } from './logger.js';
import { packageVersion } from './paths.js';
import { RedisCallBudget } from './queue/call-budget.js';
import { RedisOutboundLimiter } from './queue/outbound-limiter.js';
import { RedisProviderState } from './queue/provider-state.js';

export interface ProviderWiring {
  readonly redis: Redis;
  readonly breakers: CredentialBreakers;
  readonly logger: Logger;
  /** The GitLab credentials in use now (the live store in the service, the configured ones in the CLI). */
  readonly gitlabCredentials: CredentialSource;
  /** Sandbox mode: the vendors' simulators, used instead of any configured URL (nothing may reach the internet). */
  readonly simulators?: { readonly github: string; readonly slack: string } | undefined;
}

/** Every enabled provider over `instances` (the configured ones, or the sandbox's). Sends nothing by itself. */
export function openProviders(config: Config, instances: readonly InstanceConfig[], wiring: ProviderWiring): ProviderRegistry {
  const { redis, breakers, logger } = wiring;
  // A lease outlives the longest call, so a crashed holder frees its slot by itself.
  const limiter = new RedisOutboundLimiter(redis, Math.max(config.gitlabTimeoutMs, config.github.timeoutMs, config.slack.timeoutMs) + 5000);
  const budget = new RedisCallBudget(redis);
  const userAgent = `token-revocation-api/${packageVersion()}`;
  const services = (provider: string): ProviderServices => ({ limiter, budget, breakers, state: new RedisProviderState(redis, provider), logger: logger.child({ provider }), userAgent });
  const providers = buildProviders(config.providers, {
    gitlab: { instances, timeoutMs: config.gitlabTimeoutMs, unavailableRecheckMs: config.unavailableRecheckMs, feedback: vulnerabilityFeedbackActions(config, instances) },
    gitlabCredentials: wiring.gitlabCredentials,
    // The GitHub simulator revokes at once: a newcomer's curl should not wait the production confirmation delay.
    github: { ...config.github, token: config.secrets.githubToken, ...(wiring.simulators ? { apiUrl: wiring.simulators.github, token: undefined, confirmAfterMs: Math.min(config.github.confirmAfterMs, 1000) } : {}) },
    slack: { ...config.slack, ...(wiring.simulators ? { apiUrl: wiring.simulators.slack } : {}) },
    reportOnlyTypes: config.reportOnlyTypes,
    services,
  });
  return new ProviderRegistry(providers);
}
