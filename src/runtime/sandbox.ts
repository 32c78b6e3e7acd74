// Sandbox mode (no GITLAB_URL): the built-in GitLab simulator on loopback, so the service can be tried end to end.
import { startGitLabSimulator } from '../../simulator/index.js';
import { startGitHubSimulator } from '../../simulator/github/index.js';
import { startSlackSimulator } from '../../simulator/slack/index.js';
import type { Logger } from '../logger.js';

export interface Sandbox {
  readonly url: string;
  readonly adminToken: string;
  /** The other vendors' simulators: providers use these, never a configured URL, so nothing reaches the internet. */
  readonly simulators: { readonly github: string; readonly slack: string };
  stop(): Promise<void>;
}

export async function startSandbox(logger: Logger): Promise<Sandbox> {
  // autoCreate: any well-formed token is treated as a live one, so a newcomer's curl ends in "revoked".
  const sim = await startGitLabSimulator({ host: '127.0.0.1', port: 0, autoCreate: true });
  const github = await startGitHubSimulator({ autoCreate: true });
  const slack = await startSlackSimulator({ autoCreate: true });
  logger.warn(
    { gitlabSimulator: sim.url, githubSimulator: github.apiUrl, slackSimulator: slack.url },
    'SANDBOX MODE: GITLAB_URL is not set, so tokens are revoked against the built-in GitLab simulator, not a real GitLab. Set GITLAB_URL and GITLAB_ADMIN_TOKEN for production.',
  );
  return {
    url: sim.url,
    adminToken: sim.adminToken,
    simulators: { github: github.apiUrl, slack: slack.url },
    stop: async () => void (await Promise.all([sim.stop(), github.close(), slack.close()])),
  };
}
