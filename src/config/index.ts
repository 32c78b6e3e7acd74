// Reads the environment once, validates it against VARIABLES, and returns a typed, frozen Config.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Ajv } from 'ajv';
import { VARIABLES } from './variables.js';
import { loadSandboxSecrets } from './sandbox-secrets.js';
import { ConfigError } from '../errors.js';
import { keyFromBase64, type EncryptionKey } from '../domain/crypto.js';
import type { StrategyName } from '../domain/token-kinds.js';
import { loadInstances, type InstanceConfig } from './instances.js';

export { VARIABLES } from './variables.js';
export type { InstanceConfig } from './instances.js';

export type Role = 'all' | 'api' | 'worker';

/** Secrets live apart from the rest so that logging a Config never prints one. */
export interface Secrets {
  readonly apiTokens: readonly string[];
  readonly encryptionKeys: readonly EncryptionKey[];
  readonly redisUrl: string | undefined;
}

export interface Config {
  readonly port: number;
  readonly host: string;
  readonly role: Role;
  readonly dataDir: string;
  /** No GitLab configured: revoke against the built-in simulator. */
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
  readonly secrets: Secrets;
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
  crossCheck(raw, instances.length === 0, problems);
  if (problems.length > 0) throw new ConfigError(problems);
  return build(raw, instances, defaults);
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
  if (validateRaw(raw)) return;
  for (const e of validateRaw.errors ?? []) {
    const name = e.instancePath.slice(1);
    const secret = VARIABLES.find((v) => v.name === name)?.secret;
    // A secret's value never appears in the message, only what is wrong with it.
    problems.push(`${name} ${e.message ?? 'is invalid'}${secret ? '' : ` (got ${JSON.stringify(raw[name])})`}`);
  }
}

function crossCheck(raw: Raw, sandbox: boolean, problems: string[]): void {
  if (sandbox) return; // sandbox mode generates what is missing
  for (const name of ['REVOCATION_API_TOKENS', 'TOKEN_ENCRYPTION_KEY']) {
    if (raw[name] === undefined) problems.push(`${name} is required when a GitLab instance is configured (or set ${name}_FILE)`);
  }
  if (raw['REVOCATION_API_TOKENS'] !== undefined && splitTokens(String(raw['REVOCATION_API_TOKENS'])).some((t) => t.length < 16)) {
    problems.push('REVOCATION_API_TOKENS: every token must be at least 16 characters');
  }
  if (Number(raw['RETRY_BASE_DELAY_MS']) > Number(raw['RETRY_MAX_DELAY_MS'])) {
    problems.push('RETRY_BASE_DELAY_MS must not exceed RETRY_MAX_DELAY_MS');
  }
}

const splitTokens = (s: string): string[] => s.split(',').map((t) => t.trim()).filter((t) => t.length > 0);

function build(raw: Raw, instances: readonly InstanceConfig[], defaults: Config['instanceDefaults']): Config {
  const s = (name: string): string | undefined => (raw[name] === undefined ? undefined : String(raw[name]));
  const n = (name: string): number => Number(raw[name]);
  const dataDir = resolve(String(raw['DATA_DIR']));
  const sandbox = instances.length === 0;
  const generated = sandbox ? loadSandboxSecrets(dataDir, { apiToken: s('REVOCATION_API_TOKENS'), encryptionKey: s('TOKEN_ENCRYPTION_KEY') }) : undefined;
  const secrets: Secrets = Object.freeze({
    apiTokens: Object.freeze(splitTokens(s('REVOCATION_API_TOKENS') ?? generated?.apiToken ?? '')),
    encryptionKeys: Object.freeze([keyFromBase64(s('TOKEN_ENCRYPTION_KEY') ?? generated?.encryptionKey ?? '')]),
    redisUrl: s('REDIS_URL'),
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
    secrets,
  };
  Object.defineProperty(config, 'secrets', { enumerable: false });
  return Object.freeze(config);
}
