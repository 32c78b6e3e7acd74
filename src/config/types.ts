// The typed, frozen configuration every part of the service reads: its shape, apart from how it is read.
import type { EncryptionKey } from '../domain/crypto.js';
import type { NotifyEvent } from '../domain/events.js';
import type { InstanceConfig } from './instances.js';
import type { GitHubConfig, ProviderName, SlackConfig, StrategyName } from './providers.js';
import type { RedisTarget } from './redis-target.js';

export type Role = 'all' | 'api' | 'worker';

/** Secrets live apart from the rest so that logging a Config never prints one. */
export interface Secrets {
  readonly apiTokens: readonly string[];
  /** Credentials of the admin API and Bull Board; empty when ADMIN_API_TOKENS is unset (then /admin/ is disabled). */
  readonly adminTokens: readonly AdminToken[];
  readonly encryptionKeys: readonly EncryptionKey[];
  readonly redisUrl: string | undefined;
  /**
   * Where the data lives (REDIS_URL, REDIS_SENTINELS, REDIS_CLUSTER_NODES, with their passwords): every connection of
   * every role is opened to it. Undefined: the embedded Redis, started by the service.
   */
  readonly redis: RedisTarget | undefined;
  /** METRICS_TOKEN: the bearer token `/metrics` requires, if any. */
  readonly metricsToken: string | undefined;
  /** NOTIFY_WEBHOOK_URL: can carry a secret (Slack's do). Unset: no notifications. */
  readonly notifyWebhookUrl: string | undefined;
  /** GITHUB_TOKEN: GitHub Enterprise Server only. */
  readonly githubToken: string | undefined;
}

export interface Config {
  readonly port: number;
  readonly host: string;
  readonly role: Role;
  readonly dataDir: string;
  /** REDIS_MIN_REPLICAS_ACK: replicas a confirmed write needs (`WAIT`); `auto`: 1 if the master has one at start, else 0. */
  readonly minReplicasAck: number | 'auto';
  /** No GitLab configured, and allowed (`sandboxRule`): revoke against the built-in simulator. */
  readonly sandbox: boolean;
  /**
   * The sandbox's inbound token, set only on the start that generated it, to be printed once. loadConfig never sets
   * it: generating the sandbox's secrets is start-up work (runtime/sandbox-secrets.ts), not reading configuration.
   */
  readonly newSandboxApiToken: string | undefined;
  /** Where tokens are revoked; empty in sandbox mode (the service adds the simulator). Credentials are non-enumerable. */
  readonly instances: readonly InstanceConfig[];
  /** Strategy order and limits for instances the service adds itself (sandbox). */
  readonly instanceDefaults: { readonly perSecond: number; readonly concurrency: number; readonly strategies: readonly StrategyName[] };
  readonly gitlabTimeoutMs: number;
  readonly unavailableRecheckMs: number;
  readonly breakerRecheckMs: number;
  readonly rateLimitPerMinute: number;
  readonly rateLimitGetPerMinute: number;
  readonly limits: {
    readonly maxTokensPerRequest: number;
    readonly maxTokenLength: number;
    readonly maxLocationLength: number;
    readonly maxBodyBytes: number;
    readonly maxJsonDepth: number;
  };
  readonly trustProxy: number;
  readonly workerConcurrency: number;
  readonly jobLockMs: number;
  readonly retry: { readonly horizonMs: number; readonly baseDelayMs: number; readonly maxDelayMs: number };
  readonly outcomeRetentionSeconds: number;
  readonly recordRetentionSeconds: number;
  readonly shutdownTimeoutMs: number;
  readonly logLevel: string;
  /** When our GitLab credentials are checked and rotated (each instance opts in per credential). */
  readonly credentials: { readonly rotateBeforeMs: number; readonly periodMs: number | undefined; readonly lifetimeDays: number; readonly checkMs: number };
  /** The providers that revoke, in the order they are asked (PROVIDERS). */
  readonly providers: readonly ProviderName[];
  /** The GitHub provider's settings (GITHUB_*); its token is in `secrets`. */
  readonly github: GitHubConfig;
  /** The Slack provider's settings (SLACK_*). */
  readonly slack: SlackConfig;
  /** Types accepted for on-call only, never sent anywhere (REPORT_ONLY_TYPES). */
  readonly reportOnlyTypes: readonly string[];
  /** GITLAB_VULNERABILITY_FEEDBACK as set; undefined: the default (see `vulnerabilityFeedbackActions`). */
  readonly vulnerabilityFeedback: 'note' | 'note,resolve' | 'off' | undefined;
  /** Webhook notifications: which events, and the timeout of one call (the URL is in `secrets`). */
  readonly notify: { readonly on: readonly NotifyEvent[]; readonly timeoutMs: number };
  readonly secrets: Secrets;
}

/** One admin credential: `name` is recorded as the actor `admin:<name>` of what it does. */
export interface AdminToken {
  readonly name: string;
  readonly token: string;
}
