// Reads the environment once, validates it against VARIABLES, and returns a typed, frozen Config.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Ajv } from 'ajv';
import { VARIABLES } from './variables.js';
import { expectedFromSchema, urlProblem } from './messages.js';
import { loadSandboxSecrets } from './sandbox-secrets.js';
import { ConfigError } from '../errors.js';
import { keyFromBase64, type EncryptionKey } from '../domain/crypto.js';
import { loadInstances, type InstanceConfig } from './instances.js';
import type { NotifyEvent } from '../domain/events.js';
import { PROVIDER_NAMES, type GitHubConfig, type ProviderName, type SlackConfig, type StrategyName } from './providers.js';

export { VARIABLES } from './variables.js';
export type { InstanceConfig } from './instances.js';

export type Role = 'all' | 'api' | 'worker';

/** Secrets live apart from the rest so that logging a Config never prints one. */
export interface Secrets {
  readonly apiTokens: readonly string[];
  /** Credentials of the admin API and Bull Board; empty when ADMIN_API_TOKENS is unset (then /admin/ is disabled). */
  readonly adminTokens: readonly AdminToken[];
  readonly encryptionKeys: readonly EncryptionKey[];
  readonly redisUrl: string | undefined;
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
  /** No GitLab configured, and allowed (`sandboxRule`): revoke against the built-in simulator. */
  readonly sandbox: boolean;
  /** The sandbox's inbound token, set only on the start that generated it, to be printed once. */
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

type Raw = Record<string, string | number | boolean | undefined>;

/** Builds the Config from `env`, or throws a ConfigError naming every offending variable. */
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
  parseAdminTokens(raw, problems);
  if (problems.length > 0) throw new ConfigError(problems);
  return build(raw, instances, defaults, sandbox);
}

/** What the sandbox rule decides; `refused_*` and `ambiguous` stop the process. */
export type SandboxDecision = 'gitlab' | 'sandbox' | 'refused_production' | 'refused_off' | 'ambiguous';

/**
 * The one sandbox rule (the service and the CLI both follow it): the built-in simulator runs only when no GitLab
 * instance is configured AND (SANDBOX=true, or NODE_ENV is not production). A production image with a forgotten
 * GITLAB_URL must stop, not "revoke" leaked tokens against a simulator.
 */
export function sandboxRule(gitlabConfigured: boolean, sandbox: boolean | undefined, nodeEnv: string | undefined): SandboxDecision {
  if (gitlabConfigured) return sandbox === true ? 'ambiguous' : 'gitlab';
  if (sandbox === true) return 'sandbox';
  if (sandbox === false) return 'refused_off';
  return nodeEnv === 'production' ? 'refused_production' : 'sandbox';
}

/** The rule over a raw environment, before validation (the CLI asks it before loadConfig; an invalid SANDBOX counts as unset). */
export function sandboxFromEnv(env: NodeJS.ProcessEnv): SandboxDecision {
  const set = (name: string) => (env[name] ?? '').trim() !== '';
  const flag = (env['SANDBOX'] ?? '').trim();
  return sandboxRule(set('GITLAB_URL') || set('GITLAB_INSTANCES_FILE'), flag === 'true' ? true : flag === 'false' ? false : undefined, env['NODE_ENV']?.trim());
}

const NO_GITLAB = 'no GitLab instance is configured: set GITLAB_URL (one instance) or GITLAB_INSTANCES_FILE (several)';

function decideSandbox(raw: Raw, problems: string[]): boolean {
  const configured = raw['GITLAB_URL'] !== undefined || raw['GITLAB_INSTANCES_FILE'] !== undefined;
  const flag = raw['SANDBOX'] === undefined ? undefined : raw['SANDBOX'] === true;
  const decision = sandboxRule(configured, flag, raw['NODE_ENV'] === undefined ? undefined : String(raw['NODE_ENV']));
  if (decision === 'refused_production') problems.push(`NODE_ENV is production and ${NO_GITLAB}. The built-in GitLab simulator (sandbox mode) runs in production only with SANDBOX=true`);
  if (decision === 'refused_off') problems.push(`SANDBOX is false and ${NO_GITLAB}`);
  if (decision === 'ambiguous') problems.push('SANDBOX=true and a GitLab instance (GITLAB_URL or GITLAB_INSTANCES_FILE) are both set; unset SANDBOX to revoke on that GitLab, or unset GITLAB_URL / GITLAB_INSTANCES_FILE to use the simulator');
  return decision === 'sandbox';
}

function instanceDefaults(raw: Raw): Config['instanceDefaults'] {
  const order = String(raw['STRATEGY_ORDER']).split(',') as StrategyName[];
  const runnerDelete = raw['RUNNER_DELETE_ENABLED'] === true;
  // runner_delete destroys the runner: only when enabled, and then last unless placed explicitly.
  const strategies = runnerDelete ? (order.includes('runner_delete') ? order : [...order, 'runner_delete' as const]) : order.filter((s) => s !== 'runner_delete');
  return Object.freeze({ perSecond: Number(raw['GITLAB_RATE_LIMIT_PER_SECOND']), concurrency: Number(raw['GITLAB_CONCURRENCY']), strategies: Object.freeze([...new Set(strategies)]) });
}

function readRaw(env: NodeJS.ProcessEnv, problems: string[]): Raw {
  const raw: Raw = {};
  for (const v of VARIABLES) {
    const direct = env[v.name];
    const file = v.file ? env[`${v.name}_FILE`] : undefined;
    if (direct !== undefined && direct !== '' && file) {
      problems.push(`${v.name} and ${v.name}_FILE are both set; set only one`);
    } else if (file) {
      try {
        raw[v.name] = readFileSync(file, 'utf8').trim();
      } catch (err) {
        problems.push(`${v.name}_FILE: cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
      }
    } else if (direct !== undefined && direct !== '') {
      raw[v.name] = direct.trim();
    }
  }
  return raw;
}

const ajv = new Ajv({ allErrors: true, coerceTypes: true, useDefaults: true, strict: true });
const validateRaw = ajv.compile({
  type: 'object',
  properties: Object.fromEntries(
    VARIABLES.map((v) => [v.name, v.default === undefined ? v.schema : { ...v.schema, default: v.default }]),
  ),
});

function validate(raw: Raw, problems: string[]): void {
  const wrong = new Set<string>();
  if (!validateRaw(raw)) {
    for (const e of validateRaw.errors ?? []) {
      const name = e.instancePath.slice(1);
      if (wrong.has(name)) continue; // one line per variable, however many keywords it breaks
      wrong.add(name);
      const v = VARIABLES.find((x) => x.name === name);
      const expected = v ? (v.expected ?? expectedFromSchema(v.schema)) : undefined;
      // A secret's value never appears in the message, only what is expected of it.
      const got = v?.secret ? '' : ` (got ${JSON.stringify(raw[name])})`;
      problems.push(expected ? `${name}: expected ${expected}${got}` : `${name} ${e.message ?? 'is invalid'}${got}`);
    }
  }
  for (const v of VARIABLES) {
    const value = raw[v.name];
    if (v.url === undefined || value === undefined || wrong.has(v.name)) continue;
    const problem = urlProblem(v.name, String(value), v.url);
    if (problem) problems.push(problem);
  }
}

function crossCheck(raw: Raw, sandbox: boolean, problems: string[]): void {
  if (sandbox) return; // sandbox mode generates what is missing
  for (const name of ['REVOCATION_API_TOKENS', 'TOKEN_ENCRYPTION_KEY']) {
    if (raw[name] === undefined) problems.push(`${name} is required outside sandbox mode (or set ${name}_FILE)`);
  }
  if (raw['REVOCATION_API_TOKENS'] !== undefined && splitTokens(String(raw['REVOCATION_API_TOKENS'])).some((t) => t.length < 16)) {
    problems.push('REVOCATION_API_TOKENS: every token must be at least 16 characters');
  }
  if (Number(raw['RETRY_BASE_DELAY_MS']) > Number(raw['RETRY_MAX_DELAY_MS'])) {
    problems.push('RETRY_BASE_DELAY_MS must not exceed RETRY_MAX_DELAY_MS');
  }
}

function checkProviders(raw: Raw, problems: string[]): void {
  if (raw['GITHUB_TOKEN'] !== undefined && /^https?:\/\/api\.github\.com(\/|$)/i.test(String(raw['GITHUB_API_URL']))) {
    problems.push('GITHUB_TOKEN is set, but GITHUB_API_URL is api.github.com, where POST /credentials/revoke must be unauthenticated (GitHub refuses an authenticated one with 403): unset GITHUB_TOKEN, or point GITHUB_API_URL at your GitHub Enterprise Server (https://HOST/api/v3)');
  }
  const unknown = String(raw['PROVIDERS']).split(',').map((p) => p.trim()).filter((p) => !(PROVIDER_NAMES as readonly string[]).includes(p));
  if (unknown.length > 0) problems.push(`PROVIDERS: unknown provider(s) ${unknown.join(', ')}; choose among ${PROVIDER_NAMES.join(', ')}`);
}

/** A rotation needs a credential to rotate, and a successor that does not fall due the moment it exists. */
function checkRotation(raw: Raw, instances: readonly InstanceConfig[], problems: string[]): void {
  for (const i of instances) {
    if (i.rotation.admin && i.adminToken === undefined) problems.push(`instance ${i.name}: admin token rotation is on, but no admin token is configured`);
    if (i.rotation.group && i.group === undefined) problems.push(`instance ${i.name}: group token rotation is on, but no group token is configured`);
  }
  if (Number(raw['CREDENTIAL_LIFETIME_DAYS']) <= Number(raw['CREDENTIAL_ROTATE_BEFORE_DAYS'])) {
    problems.push('CREDENTIAL_LIFETIME_DAYS must exceed CREDENTIAL_ROTATE_BEFORE_DAYS, or every rotated credential would be due again at once');
  }
}

const splitTokens = (s: string): string[] => s.split(',').map((t) => t.trim()).filter((t) => t.length > 0);

const ADMIN_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/**
 * ADMIN_API_TOKENS: comma-separated `name:token` or bare tokens (named `admin`). Problems name the entry by its
 * position and never quote a token; an admin token must not also be one of GitLab's REVOCATION_API_TOKENS.
 */
function parseAdminTokens(raw: Raw, problems: string[]): AdminToken[] {
  const value = raw['ADMIN_API_TOKENS'];
  if (value === undefined) return [];
  const gitlab = new Set(splitTokens(String(raw['REVOCATION_API_TOKENS'] ?? '')));
  const seen = new Set<string>();
  const out: AdminToken[] = [];
  splitTokens(String(value)).forEach((entry, i) => {
    const colon = entry.indexOf(':');
    const name = colon < 0 ? 'admin' : entry.slice(0, colon).trim();
    const token = colon < 0 ? entry : entry.slice(colon + 1).trim();
    const where = `ADMIN_API_TOKENS: entry ${i + 1}`;
    if (!ADMIN_NAME.test(name)) problems.push(`${where}: the name must be 1 to 64 letters, digits, '.', '_' or '-' (give \`name:token\`)`);
    else if (token.length < 16) problems.push(`${where} (${name}): the token must be at least 16 characters`);
    else if (gitlab.has(token)) problems.push(`${where} (${name}): the token is also one of REVOCATION_API_TOKENS; the admin credential must be separate from GitLab's`);
    else if (seen.has(token)) problems.push(`${where} (${name}): the same token is listed twice`);
    else {
      seen.add(token);
      out.push(Object.freeze({ name, token }));
    }
  });
  return out;
}

function build(raw: Raw, instances: readonly InstanceConfig[], defaults: Config['instanceDefaults'], sandbox: boolean): Config {
  const s = (name: string): string | undefined => (raw[name] === undefined ? undefined : String(raw[name]));
  const n = (name: string): number => Number(raw[name]);
  const dataDir = resolve(String(raw['DATA_DIR']));
  const generated = sandbox ? loadSandboxSecrets(dataDir, { apiToken: s('REVOCATION_API_TOKENS'), encryptionKey: s('TOKEN_ENCRYPTION_KEY') }) : undefined;
  const secrets: Secrets = Object.freeze({
    apiTokens: Object.freeze(splitTokens(s('REVOCATION_API_TOKENS') ?? generated?.apiToken ?? '')),
    adminTokens: Object.freeze(parseAdminTokens(raw, [])),
    // Newest first: the first seals, every one opens (key rotation).
    encryptionKeys: Object.freeze((s('TOKEN_ENCRYPTION_KEY') ?? generated?.encryptionKey ?? '').split(',').map((k) => keyFromBase64(k.trim()))),
    redisUrl: s('REDIS_URL'),
    metricsToken: s('METRICS_TOKEN'),
    notifyWebhookUrl: s('NOTIFY_WEBHOOK_URL'),
    githubToken: s('GITHUB_TOKEN'),
  });
  const config: Config = {
    port: n('PORT'),
    host: String(raw['HOST']),
    role: raw['ROLE'] as Role,
    dataDir,
    sandbox,
    newSandboxApiToken: generated?.newApiToken,
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
  Object.defineProperty(config, 'secrets', { enumerable: false });
  return Object.freeze(config);
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
