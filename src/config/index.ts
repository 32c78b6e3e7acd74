// Reads the environment once, validates it against VARIABLES, and returns a typed, frozen Config.
import { resolve } from 'node:path';
import { ConfigError } from '../errors.js';
import type { NotifyEvent } from '../domain/events.js';
import { checkProviders, checkRotation, crossCheck } from './checks.js';
import { readRaw, validate, type Raw } from './environment.js';
import { loadInstances, type InstanceConfig } from './instances.js';
import type { ProviderName, StrategyName } from './providers.js';
import { minReplicasAck, redisTarget, type RedisTarget } from './redis-target.js';
import { decideSandbox } from './sandbox-rule.js';
import { encryptionKeys, parseAdminTokens, splitTokens } from './secrets.js';
import type { AdminToken, Config, Role, Secrets } from './types.js';

export { VARIABLES } from './variables.js';
export type { InstanceConfig } from './instances.js';
export type { AdminToken, Config, Role, Secrets } from './types.js';
export { sandboxFromEnv, sandboxRule, type SandboxDecision } from './sandbox-rule.js';
export { encryptionKeys, splitTokens } from './secrets.js';

/**
 * Builds the Config from `env`, or throws a ConfigError naming every offending variable. It writes nothing (it reads
 * only the `*_FILE` files it is pointed at), so a SIGHUP reload or a CLI call may run it as often as it likes. In
 * sandbox mode an unset REVOCATION_API_TOKENS or TOKEN_ENCRYPTION_KEY is an empty list: `provisionSandboxSecrets`
 * (runtime/sandbox-secrets.ts) fills it when the service starts.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const problems: string[] = [];
  const raw = readRaw(env, problems);
  validate(raw, problems);
  if (problems.length > 0) throw new ConfigError(problems);
  const defaults = instanceDefaults(raw);
  const instances = loadInstances((name) => (raw[name] === undefined ? undefined : String(raw[name])), defaults, problems);
  const sandbox = decideSandbox(raw, problems);
  crossCheck(raw, sandbox, problems);
  checkProviders(raw, problems);
  checkRotation(raw, instances, problems);
  const adminTokens = parseAdminTokens(raw, problems);
  const redis = redisTarget(lookup(raw), problems);
  if (problems.length > 0) throw new ConfigError(problems);
  return build(raw, instances, defaults, sandbox, adminTokens, redis);
}

function instanceDefaults(raw: Raw): Config['instanceDefaults'] {
  const order = String(raw['STRATEGY_ORDER']).split(',') as StrategyName[];
  const runnerDelete = raw['RUNNER_DELETE_ENABLED'] === true;
  // runner_delete destroys the runner: only when enabled, and then last unless placed explicitly.
  const strategies = runnerDelete ? (order.includes('runner_delete') ? order : [...order, 'runner_delete' as const]) : order.filter((s) => s !== 'runner_delete');
  return Object.freeze({ perSecond: Number(raw['GITLAB_RATE_LIMIT_PER_SECOND']), concurrency: Number(raw['GITLAB_CONCURRENCY']), strategies: Object.freeze([...new Set(strategies)]) });
}

/** The same Config with other secrets (sandbox start-up fills the ones left unset): frozen, its secrets non-enumerable. */
export function withSecrets(config: Config, secrets: Secrets, newSandboxApiToken: string | undefined): Config {
  return freeze({ ...config, newSandboxApiToken, secrets: Object.freeze(secrets) });
}

/** Secrets non-enumerable, so that logging a Config never prints one. */
function freeze(config: Config): Config {
  Object.defineProperty(config, 'secrets', { enumerable: false });
  return Object.freeze(config);
}

const lookup = (raw: Raw) => (name: string): string | undefined => (raw[name] === undefined ? undefined : String(raw[name]));

function build(raw: Raw, instances: readonly InstanceConfig[], defaults: Config['instanceDefaults'], sandbox: boolean, adminTokens: readonly AdminToken[], redis: RedisTarget | undefined): Config {
  const s = (name: string): string | undefined => (raw[name] === undefined ? undefined : String(raw[name]));
  const n = (name: string): number => Number(raw[name]);
  const dataDir = resolve(String(raw['DATA_DIR']));
  const key = s('TOKEN_ENCRYPTION_KEY');
  const secrets: Secrets = Object.freeze({
    // Unset only in sandbox mode (crossCheck): empty until the sandbox's start-up fills them.
    apiTokens: Object.freeze(splitTokens(s('REVOCATION_API_TOKENS') ?? '')),
    adminTokens: Object.freeze([...adminTokens]),
    encryptionKeys: key === undefined ? Object.freeze([]) : encryptionKeys(key),
    redisUrl: s('REDIS_URL'),
    redis,
    metricsToken: s('METRICS_TOKEN'),
    notifyWebhookUrl: s('NOTIFY_WEBHOOK_URL'),
    githubToken: s('GITHUB_TOKEN'),
  });
  const config: Config = {
    port: n('PORT'),
    host: String(raw['HOST']),
    role: raw['ROLE'] as Role,
    dataDir,
    minReplicasAck: minReplicasAck(lookup(raw)),
    sandbox,
    newSandboxApiToken: undefined,
    instances: Object.freeze([...instances]),
    instanceDefaults: defaults,
    gitlabTimeoutMs: n('GITLAB_TIMEOUT_MS'),
    unavailableRecheckMs: n('UNAVAILABLE_RECHECK_MINUTES') * 60_000,
    breakerRecheckMs: n('BREAKER_RECHECK_SECONDS') * 1000,
    rateLimitPerMinute: n('RATE_LIMIT_PER_MINUTE'),
    rateLimitGetPerMinute: n('RATE_LIMIT_GET_PER_MINUTE'),
    limits: Object.freeze({
      maxTokensPerRequest: n('MAX_TOKENS_PER_REQUEST'),
      maxTokenLength: n('MAX_TOKEN_LENGTH'),
      maxLocationLength: n('MAX_LOCATION_LENGTH'),
      maxBodyBytes: n('MAX_BODY_BYTES'),
      maxJsonDepth: n('MAX_JSON_DEPTH'),
    }),
    trustProxy: n('TRUST_PROXY'),
    workerConcurrency: n('WORKER_CONCURRENCY'),
    jobLockMs: n('JOB_LOCK_SECONDS') * 1000,
    retry: Object.freeze({
      horizonMs: n('RETRY_HORIZON_HOURS') * 3_600_000,
      baseDelayMs: n('RETRY_BASE_DELAY_MS'),
      maxDelayMs: n('RETRY_MAX_DELAY_MS'),
    }),
    outcomeRetentionSeconds: Math.round(n('OUTCOME_RETENTION_DAYS') * 86_400),
    recordRetentionSeconds: Math.round(n('RECORD_RETENTION_DAYS') * 86_400),
    shutdownTimeoutMs: n('SHUTDOWN_TIMEOUT_SECONDS') * 1000,
    logLevel: String(raw['LOG_LEVEL']),
    credentials: Object.freeze({
      rotateBeforeMs: n('CREDENTIAL_ROTATE_BEFORE_DAYS') * 86_400_000,
      periodMs: raw['CREDENTIAL_ROTATION_PERIOD_DAYS'] === undefined ? undefined : n('CREDENTIAL_ROTATION_PERIOD_DAYS') * 86_400_000,
      lifetimeDays: n('CREDENTIAL_LIFETIME_DAYS'),
      checkMs: n('CREDENTIAL_CHECK_SECONDS') * 1000,
    }),
    providers: Object.freeze([...new Set(String(raw['PROVIDERS']).split(',').map((p) => p.trim()))] as ProviderName[]),
    reportOnlyTypes: Object.freeze(splitTokens(s('REPORT_ONLY_TYPES') ?? '')),
    github: Object.freeze({
      apiUrl: String(raw['GITHUB_API_URL']).replace(/\/+$/, ''),
      requestsPerHour: n('GITHUB_REVOKE_REQUESTS_PER_HOUR'),
      batchWaitMs: n('GITHUB_BATCH_WAIT_MS'),
      confirmAfterMs: n('GITHUB_CONFIRM_AFTER_SECONDS') * 1000,
      resubmitAfterMs: n('GITHUB_RESUBMIT_AFTER_MINUTES') * 60_000,
      maxSubmissions: n('GITHUB_MAX_SUBMISSIONS'),
      perSecond: n('GITHUB_RATE_LIMIT_PER_SECOND'),
      concurrency: n('GITHUB_CONCURRENCY'),
      timeoutMs: n('GITHUB_TIMEOUT_MS'),
    }),
    slack: Object.freeze({ apiUrl: String(raw['SLACK_API_URL']).replace(/\/+$/, ''), perSecond: n('SLACK_RATE_LIMIT_PER_SECOND'), concurrency: n('SLACK_CONCURRENCY'), timeoutMs: n('SLACK_TIMEOUT_MS') }),
    vulnerabilityFeedback: s('GITLAB_VULNERABILITY_FEEDBACK') as Config['vulnerabilityFeedback'],
    notify: Object.freeze({ on: Object.freeze([...new Set(String(raw['NOTIFY_ON']).split(','))] as NotifyEvent[]), timeoutMs: n('NOTIFY_TIMEOUT_MS') }),
    secrets,
  };
  return freeze(config);
}

/**
 * What is written back to the findings' vulnerabilities, on the first instance (the GitLab that calls us): the
 * setting, or by default a note when that instance has an admin credential. Empty: off. The service and the CLI
 * (`trapi resolve`) both decide with this.
 */
export function vulnerabilityFeedbackActions(config: Pick<Config, 'vulnerabilityFeedback'>, instances: readonly Pick<InstanceConfig, 'adminToken'>[]): readonly ('note' | 'resolve')[] {
  const first = instances[0];
  if (first === undefined || first.adminToken === undefined) return [];
  const setting = config.vulnerabilityFeedback ?? 'note';
  return setting === 'off' ? [] : setting === 'note' ? ['note'] : ['note', 'resolve'];
}
