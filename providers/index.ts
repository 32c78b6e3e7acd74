// The explicit list of providers (as Unleash lists its addons): PROVIDERS chooses which are built, in this order.
import type { CredentialSource, Provider, ProviderServices } from './contract.js';
import { createGitHubProvider, type GitHubSettings } from './github/index.js';
import { createGitLabProvider, type GitLabSettings } from './gitlab/index.js';
import { createReportOnlyProvider } from './report-only/index.js';
import { createSlackProvider, type SlackSettings } from './slack/index.js';

export type { GitLabSettings } from './gitlab/index.js';
export type { GitHubSettings } from './github/index.js';
export type { SlackSettings } from './slack/index.js';

/** Everything the providers are built from: their settings (validated by src/config) and the shared services. */
export interface ProviderInputs {
  readonly gitlab: GitLabSettings;
  /** The GitLab credentials in use now (self-rotation replaces them while the service runs). */
  readonly gitlabCredentials: CredentialSource;
  readonly github: GitHubSettings;
  readonly slack: SlackSettings;
  /** Types no API can revoke, reported to on-call (REPORT_ONLY_TYPES). */
  readonly reportOnlyTypes: readonly string[];
  /** The shared services, scoped to one provider. */
  readonly services: (provider: string) => ProviderServices;
}

/** One entry per vendor: adding a vendor adds a line here and a folder beside this file. */
const PROVIDERS = {
  gitlab: (i: ProviderInputs) => createGitLabProvider(i.gitlab, i.services('gitlab'), i.gitlabCredentials),
  github: (i: ProviderInputs) => createGitHubProvider(i.github, i.services('github')),
  slack: (i: ProviderInputs) => createSlackProvider(i.slack, i.services('slack')),
} as const satisfies Record<string, (inputs: ProviderInputs) => Provider>;

export type ProviderName = keyof typeof PROVIDERS;
export const PROVIDER_NAMES = Object.keys(PROVIDERS) as ProviderName[];

/** The enabled providers, in the order given; report-only types come last, so a vendor's own kind always wins. */
export function buildProviders(enabled: readonly ProviderName[], inputs: ProviderInputs): Provider[] {
  const providers: Provider[] = enabled.map((name) => PROVIDERS[name](inputs));
  if (inputs.reportOnlyTypes.length > 0) providers.push(createReportOnlyProvider(inputs.reportOnlyTypes));
  return providers;
}
