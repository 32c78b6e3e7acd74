// The explicit list of providers (as Unleash lists its addons): PROVIDERS chooses which are built, in this order.
// Each entry reads its own settings from the validated Config: adding a vendor adds a line here and a folder beside
// this file (plus its name and variables in src/config, which the `satisfies` below checks against this list, and, for
// sandbox mode, its simulator in src/runtime/sandbox.ts).
import { vulnerabilityFeedbackActions, type Config, type InstanceConfig } from '../src/config/index.js';
import type { ProviderName } from '../src/config/providers.js';
import type { CredentialSource, Provider, ProviderServices } from './contract.js';
import { createGitHubProvider } from './github/index.js';
import { createGitLabProvider } from './gitlab/index.js';
import { createReportOnlyProvider } from './report-only/index.js';
import { createSlackProvider } from './slack/index.js';

/** Everything the providers are built from: the Config, the GitLab instances in use, and the shared services. */
export interface ProviderInputs {
  readonly config: Config;
  /** The configured GitLab instances, or the sandbox's simulator. */
  readonly instances: readonly InstanceConfig[];
  /** The GitLab credentials in use now (self-rotation replaces them while the service runs). */
  readonly gitlabCredentials: CredentialSource;
  /** The shared services for one provider; `timeoutMs` is its longest call (outbound leases outlive it). */
  readonly services: (provider: string, timeoutMs: number) => ProviderServices;
  /** Sandbox mode: a vendor's simulator, used instead of any configured URL. */
  readonly simulator?: ((provider: string) => string | undefined) | undefined;
}

const PROVIDERS = {
  gitlab: ({ config, instances, services, gitlabCredentials }: ProviderInputs) =>
    createGitLabProvider(
      { instances, timeoutMs: config.gitlabTimeoutMs, unavailableRecheckMs: config.unavailableRecheckMs, feedback: vulnerabilityFeedbackActions(config, instances) },
      services('gitlab', config.gitlabTimeoutMs),
      gitlabCredentials,
    ),
  github: ({ config, services, simulator }: ProviderInputs) => {
    const sim = simulator?.('github');
    // The simulator revokes at once: a newcomer's curl need not wait the production confirmation delay.
    const sandbox = sim === undefined ? {} : { apiUrl: sim, token: undefined, confirmAfterMs: Math.min(config.github.confirmAfterMs, 1000) };
    return createGitHubProvider({ ...config.github, token: config.secrets.githubToken, ...sandbox }, services('github', config.github.timeoutMs));
  },
  slack: ({ config, services, simulator }: ProviderInputs) => {
    const sim = simulator?.('slack');
    return createSlackProvider({ ...config.slack, ...(sim === undefined ? {} : { apiUrl: sim }) }, services('slack', config.slack.timeoutMs));
  },
} as const satisfies Record<ProviderName, (inputs: ProviderInputs) => Provider>;

/** The enabled providers, in the order of PROVIDERS; report-only types come last, so a vendor's own kind always wins. */
export function buildProviders(inputs: ProviderInputs): Provider[] {
  const providers: Provider[] = inputs.config.providers.map((name) => PROVIDERS[name](inputs));
  if (inputs.config.reportOnlyTypes.length > 0) providers.push(createReportOnlyProvider(inputs.config.reportOnlyTypes));
  return providers;
}
