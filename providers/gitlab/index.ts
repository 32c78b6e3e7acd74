// The GitLab provider's entry point: builds the instances (client, limits, credentials) and the provider over them.
import type { CredentialSource, ProviderServices } from '../contract.js';
import { createGitLabClient } from './client.js';
import { GitLabVulnerabilityFeedback } from './feedback.js';
import { ExpiringSet, GitLabInstance, type InstanceSettings } from './instance.js';
import { GitLabProvider } from './provider.js';
import { STRATEGY } from './strategies/index.js';

export { GitLabProvider } from './provider.js';
export { GitLabInstance } from './instance.js';
export { KIND_RULES, STRATEGIES, type StrategyName } from './kinds.js';

export interface GitLabSettings {
  readonly instances: readonly (InstanceSettings & { readonly ca: string | undefined })[];
  readonly timeoutMs: number;
  /** How long an endpoint found unavailable is skipped before it is tried again. */
  readonly unavailableRecheckMs: number;
  /** Vulnerability feedback on the first instance (the caller): empty when off (GITLAB_VULNERABILITY_FEEDBACK). */
  readonly feedback?: readonly ('note' | 'resolve')[];
}

export function createGitLabProvider(settings: GitLabSettings, services: ProviderServices, credentials: CredentialSource): GitLabProvider {
  const availability = new ExpiringSet(settings.unavailableRecheckMs);
  const instances = settings.instances.map(
    (i) => new GitLabInstance(i, createGitLabClient({ url: i.url, timeoutMs: settings.timeoutMs, maxSockets: i.limits.concurrency, ca: i.ca, userAgent: services.userAgent }), services.limiter, availability, credentials),
  );
  for (const i of instances) {
    if (i.credential('admin') === undefined) services.logger.warn({ instance: i.name, strategies: runnable(i) }, `no admin credential for this instance: only ${runnable(i).join(', ') || 'no strategy'} will run`);
  }
  const caller = settings.instances[0];
  const actions = settings.feedback ?? [];
  const feedback =
    caller && actions.length > 0 ? new GitLabVulnerabilityFeedback({ instance: caller, actions, timeoutMs: settings.timeoutMs, userAgent: services.userAgent }, services.limiter, availability, credentials) : undefined;
  return new GitLabProvider(instances, services.breakers, feedback);
}

/** The strategies an instance can run with the credentials it has, in its order. */
function runnable(instance: GitLabInstance): string[] {
  return instance.settings.strategies.filter((s) => {
    const needs = STRATEGY[s].credential;
    return needs === undefined || instance.credential(needs) !== undefined;
  });
}
