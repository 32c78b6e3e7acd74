// What the configuration reads for the providers, in its own terms. providers/index.ts hands these values to the
// providers it builds, and TypeScript checks there that each fits the provider's own settings: so the Config imports
// no provider code, and the provider list may read the Config without a cycle.

/** What PROVIDERS may name; providers/index.ts has one entry for each (its `satisfies` checks the two agree). */
export const PROVIDER_NAMES = ['gitlab', 'github', 'slack'] as const;
export type ProviderName = (typeof PROVIDER_NAMES)[number];

/** GitLab's strategies as STRATEGY_ORDER and the instances file name them (providers/gitlab/kinds.ts says what each does). */
export type StrategyName = 'admin' | 'self' | 'runner_reset' | 'runner_delete' | 'group';

/** GITHUB_* (providers/github/settings.ts documents and checks each); the token is in the Config's `secrets`. */
export interface GitHubConfig {
  readonly apiUrl: string;
  readonly requestsPerHour: number;
  readonly batchWaitMs: number;
  readonly confirmAfterMs: number;
  readonly resubmitAfterMs: number;
  readonly maxSubmissions: number;
  readonly perSecond: number;
  readonly concurrency: number;
  readonly timeoutMs: number;
}

/** SLACK_* (providers/slack/settings.ts documents and checks each). */
export interface SlackConfig {
  readonly apiUrl: string;
  readonly perSecond: number;
  readonly concurrency: number;
  readonly timeoutMs: number;
}
