// Sandbox mode (no GITLAB_URL): the built-in GitLab simulator on loopback, so the service can be tried end to end.
import { startGitLabSimulator } from '../../simulator/index.js';
import { startGitHubSimulator } from '../../simulator/github/index.js';
import { startSlackSimulator } from '../../simulator/slack/index.js';
import type { Config, InstanceConfig } from '../config/index.js';
import { instance } from '../config/instances.js';
import type { Logger } from '../logger.js';

export interface Sandbox {
  /** The simulator as a GitLab instance, named `sandbox` (see `sandboxInstance`). */
  readonly instance: InstanceConfig;
  /** The other vendors' simulators: providers use these, never a configured URL, so nothing reaches the internet. */
  readonly simulators: { readonly github: string; readonly slack: string };
  stop(): Promise<void>;
}

/** Where the sandbox instance points: the running simulator (the service) or a stand-in (the CLI, which starts none). */
export interface SandboxEndpoint {
  readonly url: string;
  readonly adminToken: string;
}

/** The CLI's stand-in: the same instance as the service's, with an admin credential, but nothing listening behind it. */
export const SANDBOX_PLACEHOLDER: SandboxEndpoint = { url: 'http://127.0.0.1', adminToken: 'sandbox-placeholder' };

/**
 * The one definition of the sandbox's GitLab instance: the configured strategies, and at least 100 calls a second
 * (the simulator is local; GITLAB_RATE_LIMIT_PER_SECOND's default is meant for a real GitLab).
 */
export function sandboxInstance(defaults: Config['instanceDefaults'], endpoint: SandboxEndpoint): InstanceConfig {
  return instance({
    name: 'sandbox',
    url: endpoint.url,
    adminToken: endpoint.adminToken,
    group: undefined,
    tokenPrefix: undefined,
    ca: undefined,
    limits: { perSecond: Math.max(defaults.perSecond, 100), concurrency: defaults.concurrency },
    strategies: defaults.strategies,
    rotation: { admin: undefined, group: undefined },
  });
}

export async function startSandbox(defaults: Config['instanceDefaults'], logger: Logger): Promise<Sandbox> {
  // autoCreate: any well-formed token is treated as a live one, so a newcomer's curl ends in "revoked".
  const sim = await startGitLabSimulator({ host: '127.0.0.1', port: 0, autoCreate: true });
  const github = await startGitHubSimulator({ autoCreate: true });
  const slack = await startSlackSimulator({ autoCreate: true });
  logger.warn(
    { gitlabSimulator: sim.url, githubSimulator: github.apiUrl, slackSimulator: slack.url },
    'SANDBOX MODE: GITLAB_URL is not set, so tokens are revoked against the built-in GitLab simulator, not a real GitLab. Set GITLAB_URL and GITLAB_ADMIN_TOKEN for production.',
  );
  return {
    instance: sandboxInstance(defaults, { url: sim.url, adminToken: sim.adminToken }),
    simulators: { github: github.apiUrl, slack: slack.url },
    stop: async () => void (await Promise.all([sim.stop(), github.close(), slack.close()])),
  };
}
