#!/usr/bin/env node
// trapi: the on-call command line. Reads the same configuration as the service and calls the same Operations.
import { hostname, userInfo } from 'node:os';
import { realpathSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import type { Redis } from 'ioredis';
import { ProviderRegistry } from '../providers/registry.js';
import { loadConfig, type Config, type InstanceConfig } from './config/index.js';
import { instance } from './config/instances.js';
import type { AuditEntry, FailedFilter, FailedToken, Operations, Status, TokenTypes, TokenView } from './domain/ports.js';
import { AppError, ConfigError } from './errors.js';
import { createLogger, type Logger } from './logger.js';
import { openOperations } from './operations.js';
import { packageVersion } from './paths.js';
import { RedisBreakers } from './queue/breakers.js';
import { producerConnection } from './queue/redis.js';
import { embeddedRedisUrl } from './runtime/embedded-redis.js';

export interface CliIo {
  readonly stdout: { write(text: string): unknown };
  readonly stderr: { write(text: string): unknown };
  readonly stdin: NodeJS.ReadableStream & { readonly isTTY?: boolean };
  readonly env: NodeJS.ProcessEnv;
}

/** Exit codes: 0 done, 1 the operation failed, 2 usage or configuration error. */
const OK = 0;
const FAILED = 1;
const USAGE = 2;

/** A mistake in how the command was called: exit 2. */
class UsageError extends Error {}

type Values = Record<string, string | boolean | undefined>;
type OptionSpec = Record<string, { type: 'string' | 'boolean'; short?: string }>;

interface Context {
  readonly io: CliIo;
  readonly values: Values;
  readonly positionals: readonly string[];
  readonly json: boolean;
  /** Operations over the configured Redis, opened on first use. */
  ops(): Promise<Operations>;
  tokenTypes(): Promise<string[]>;
}

interface Command {
  readonly usage: string;
  readonly summary: string;
  readonly details: string;
  readonly options: OptionSpec;
  readonly positionals: readonly [min: number, max: number];
  run(ctx: Context): Promise<number>;
}

const COMMON: OptionSpec = { json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } };
const ACTOR: OptionSpec = { actor: { type: 'string' } };
const FILTERS: OptionSpec = { type: { type: 'string' }, instance: { type: 'string' }, reason: { type: 'string' }, since: { type: 'string' } };

const SINCE_HELP = '--since accepts an ISO date or time (2025-01-31, 2025-01-31T02:00:00Z) or an age: 30m, 2h, 7d.';
const ACTOR_HELP = `--actor NAME names you in the audit trail (recorded as cli:NAME); default cli:<user>@<host>.`;

const COMMANDS: Readonly<Record<string, Command>> = {
  status: {
    usage: 'trapi status [--json]',
    summary: 'jobs by state, oldest waiting age, open breakers, workers, paused or not',
    details: 'A worker count of -1 means Redis refused CLIENT LIST (managed Redis), not that no worker runs.',
    options: {},
    positionals: [0, 0],
    run: async (ctx) => {
      const status = await (await ctx.ops()).status();
      return emit(ctx, status, () => statusLines(status));
    },
  },
  failed: {
    usage: 'trapi failed list [--type T] [--instance I] [--reason PREFIX] [--since WHEN] [--json]',
    summary: 'failed tokens, with why they failed',
    details: `--reason matches the start of the failed reason (e.g. no_strategy_available, retry_horizon).\n${SINCE_HELP}`,
    options: FILTERS,
    positionals: [0, 1],
    run: async (ctx) => {
      const sub = ctx.positionals[0] ?? 'list';
      if (sub !== 'list') throw new UsageError(`unknown subcommand "failed ${sub}"; did you mean \`trapi failed list\`?`);
      const failed = await (await ctx.ops()).failed(filterOf(ctx.values));
      return emit(ctx, { count: failed.length, failed }, () => failedLines(failed));
    },
  },
  show: {
    usage: 'trapi show <fingerprint-or-prefix> [--json]',
    summary: "a token's record: state, where it was found, what GitLab identified, full history",
    details: 'A unique prefix of at least 8 hex characters is enough.',
    options: {},
    positionals: [1, 1],
    run: async (ctx) => {
      const given = ctx.positionals[0] ?? '';
      const view = await (await ctx.ops()).show(given);
      if (!view) throw new AppError('not_found', `no token record starts with ${given.trim().toLowerCase()}; check the fingerprint (\`trapi failed list\`, or \`trapi lookup\` with the token)`, 404);
      return emit(ctx, view, () => viewLines(view));
    },
  },
  replay: {
    usage: 'trapi replay <fingerprint-or-prefix> | trapi replay [--type T] [--instance I] [--reason PREFIX] [--since WHEN] | trapi replay --all   [--dry-run] [--actor NAME] [--json]',
    summary: 'requeue failed tokens with fresh attempts and retry horizon (after fixing the cause)',
    details: `Give one token, filters, or --all; with no selector nothing is replayed. --dry-run lists what would be queued.\n${SINCE_HELP}\n${ACTOR_HELP}`,
    options: { ...FILTERS, ...ACTOR, all: { type: 'boolean' }, 'dry-run': { type: 'boolean' } },
    positionals: [0, 1],
    run: replay,
  },
  resolve: {
    usage: 'trapi resolve <fingerprint-or-prefix> --reason "TEXT" [--actor NAME] [--json]',
    summary: 'mark a failed token as handled out of band (audited; resends of it are not queued again)',
    details: ACTOR_HELP,
    options: { ...ACTOR, reason: { type: 'string' } },
    positionals: [1, 1],
    run: async (ctx) => {
      const reason = str(ctx.values, 'reason');
      if (reason === undefined || reason.trim() === '') throw new UsageError('resolve needs --reason "what was done", e.g. --reason "rotated by hand"');
      const view = await (await ctx.ops()).resolve(ctx.positionals[0] ?? '', reason, actorOf(ctx.values));
      return emit(ctx, view, () => [`resolved ${short(view.fingerprint)} (${view.type}): ${reason}`]);
    },
  },
  lookup: {
    usage: 'printf %s "$TOKEN" | trapi lookup [--json]',
    summary: 'fingerprint and record of a token read from standard input (never from an argument)',
    details: 'The token is read until end of input (one trailing newline is dropped); it is never printed or logged.',
    options: {},
    positionals: [0, 0],
    run: lookup,
  },
  types: {
    usage: 'trapi types [--json]',
    summary: 'the token types the service revokes with this configuration',
    details: 'Needs no Redis: derived from the configuration, as GET /v1/revocable_token_types is.',
    options: {},
    positionals: [0, 0],
    run: async (ctx) => {
      const types = await ctx.tokenTypes();
      return emit(ctx, { types }, () => types);
    },
  },
  pause: {
    usage: 'trapi pause [--actor NAME] [--json]',
    summary: 'stop starting revocation jobs (in-flight jobs finish; GitLab submissions are still accepted)',
    details: ACTOR_HELP,
    options: ACTOR,
    positionals: [0, 0],
    run: async (ctx) => {
      const actor = actorOf(ctx.values);
      await (await ctx.ops()).pause(actor);
      return emit(ctx, { paused: true, actor }, () => ['paused: no revocation job will start until `trapi resume`']);
    },
  },
  resume: {
    usage: 'trapi resume [--actor NAME] [--json]',
    summary: 'start revocation jobs again',
    details: ACTOR_HELP,
    options: ACTOR,
    positionals: [0, 0],
    run: async (ctx) => {
      const actor = actorOf(ctx.values);
      await (await ctx.ops()).resume(actor);
      return emit(ctx, { paused: false, actor }, () => ['resumed: revocation jobs are running']);
    },
  },
  audit: {
    usage: 'trapi audit [--fingerprint FP] [--since WHEN] [--limit N] [--json]',
    summary: 'the audit trail (operator actions and outcomes), newest first',
    details: `--fingerprint accepts a unique prefix. --limit defaults to 100.\n${SINCE_HELP}`,
    options: { fingerprint: { type: 'string' }, since: { type: 'string' }, limit: { type: 'string' } },
    positionals: [0, 0],
    run: audit,
  },
};

function globalHelp(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((n) => n.length)) + 2;
  return [
    'trapi: operate the Token Revocation API. Reads the same environment as the service (README.md, Configuration).',
    '',
    'Usage: trapi <command> [options]        trapi <command> --help for details',
    '',
    'Commands:',
    ...Object.entries(COMMANDS).map(([name, c]) => `  ${(name === 'failed' ? 'failed list' : name).padEnd(width + 5)}${c.summary}`),
    '',
    'Every command takes --json (one JSON document on stdout) and --help.',
    'Fingerprints may be shortened to a unique prefix of 8+ hex characters.',
    'Redis: REDIS_URL if set, else the embedded Redis of the service running with the same DATA_DIR.',
    'Exit codes: 0 done; 1 the operation failed (not found, not failed, ambiguous, Redis unreachable); 2 usage or configuration error.',
    '',
  ].join('\n');
}

function commandHelp(c: Command): string {
  const options = Object.keys(c.options).map((o) => `--${o}`);
  return [`${c.usage}`, '', `  ${c.summary}.`, ...c.details.split('\n').map((l) => `  ${l}`), '', `  options: ${[...options, '--json', '--help'].join(' ')}`, ''].join('\n');
}

/** Runs one command line; resolves with the exit code. Never throws. */
export async function main(argv: readonly string[], io: CliIo = processIo()): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    const topic = name === 'help' ? rest[0] : undefined;
    const command = topic !== undefined && Object.hasOwn(COMMANDS, topic) ? COMMANDS[topic] : undefined;
    // With no command at all, the help is a usage error: on stderr, exit 2.
    (name === undefined ? io.stderr : io.stdout).write(command && topic ? commandHelp(command) : globalHelp());
    return name === undefined ? USAGE : OK;
  }
  if (name === '--version' || name === '-v') {
    io.stdout.write(`${packageVersion()}\n`);
    return OK;
  }
  const command = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (!command) return fail(io, USAGE, `unknown command "${name}"; run \`trapi --help\` for the list`);

  let resources: Resources | undefined;
  try {
    const { values, positionals } = parse(name, command, rest);
    if (values['help'] === true) {
      io.stdout.write(commandHelp(command));
      return OK;
    }
    const [min, max] = command.positionals;
    if (positionals.length < min) throw new UsageError(`missing argument; usage: ${command.usage}`);
    // Extra arguments are not echoed: someone may have typed a token where it does not belong.
    if (positionals.length > max) throw new UsageError(name === 'lookup' ? LOOKUP_FROM_ARGUMENT : `too many arguments (at most ${max}); usage: ${command.usage}`);
    const config = readConfig(withoutSandboxSecrets(io.env));
    const logger = createLogger('warn', pino.destination(2));
    const res: Resources = { config, logger };
    resources = res;
    return await command.run({
      io,
      values,
      positionals,
      json: values['json'] === true,
      ops: () => operationsOf(res),
      tokenTypes: async () => (await registryOf(res)).types(),
    });
  } catch (err) {
    return fail(io, ...classifyError(err));
  } finally {
    if (resources) await release(resources);
  }
}

const LOOKUP_FROM_ARGUMENT = 'lookup never takes the token as an argument (it would stay in shell history and process lists); pipe it: `printf %s "$TOKEN" | trapi lookup`';

function parse(name: string, command: Command, args: readonly string[]): { values: Values; positionals: string[] } {
  try {
    const { values, positionals } = parseArgs({ args: [...args], options: { ...COMMON, ...command.options }, allowPositionals: true, strict: true });
    return { values: values as Values, positionals };
  } catch (err) {
    // parseArgs quotes the offending argument: for lookup, that could be the token.
    if (name === 'lookup') throw new UsageError(`unknown option; ${LOOKUP_FROM_ARGUMENT}`);
    throw new UsageError(`${(err as Error).message.split('\n')[0] ?? 'bad arguments'}; usage: ${command.usage}`);
  }
}

/**
 * In sandbox mode loadConfig generates and stores the inbound token and encryption key when unset. The CLI uses
 * neither (fingerprints need no key), and a CLI run before the first start of the service must not store them: the
 * service would then never print its generated credential. Placeholders keep loadConfig from generating anything.
 */
function withoutSandboxSecrets(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const set = (name: string) => (env[name] ?? '') !== '' || (env[`${name}_FILE`] ?? '') !== '';
  if (set('GITLAB_URL') || set('GITLAB_INSTANCES_FILE')) return env;
  return {
    ...env,
    ...(set('REVOCATION_API_TOKENS') ? {} : { REVOCATION_API_TOKENS: `cli-unused-${randomBytes(12).toString('hex')}` }),
    ...(set('TOKEN_ENCRYPTION_KEY') ? {} : { TOKEN_ENCRYPTION_KEY: randomBytes(32).toString('base64') }),
  };
}

function readConfig(env: NodeJS.ProcessEnv): Config {
  try {
    return loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    throw new AppError('invalid_configuration', `could not read the configuration: ${(err as Error).message}`);
  }
}

// ---- Redis and the Operations ----------------------------------------------------------------------------------------

interface Resources {
  readonly config: Config;
  readonly logger: Logger;
  redis?: Redis;
  ops?: Promise<Operations>;
  closeOps?: () => Promise<void>;
  registry?: ProviderRegistry;
}

function redisUrlOf(config: Config): string {
  const url = config.secrets.redisUrl ?? embeddedRedisUrl(config.dataDir);
  if (url === undefined) {
    throw new AppError('redis_unknown', `no running service found: REDIS_URL is unset and no embedded Redis is recorded under ${config.dataDir}; start the service (npm start) from this directory, set DATA_DIR to its data folder, or set REDIS_URL`);
  }
  return url;
}

/** A fail-fast connection (no offline queue, short timeouts), created once and closed by `release`. */
function redisOf(res: Resources, url: string): Redis {
  if (!res.redis) {
    res.redis = producerConnection(url);
    res.redis.on('error', (err: Error) => res.logger.debug({ err: err.message }, 'redis (cli) connection error'));
  }
  return res.redis;
}

/**
 * Ready, or the first connection error (refused, wrong password, 2 s connect timeout): at 3 a.m. the cause beats a
 * timeout. ioredis's own connect() settles on either; queue/redis.ts connect() waits for ready behind a timer that would
 * keep a failed CLI process alive for its whole length.
 */
async function connectOrFirstError(redis: Redis): Promise<void> {
  let cause: Error | undefined;
  const remember = (err: Error) => (cause ??= err);
  redis.on('error', remember);
  try {
    if (redis.status === 'wait') await redis.connect();
  } catch (err) {
    throw cause ?? err; // "Connection is closed." says less than the error that closed it
  } finally {
    redis.off('error', remember);
  }
}

function operationsOf(res: Resources): Promise<Operations> {
  res.ops ??= (async () => {
    const url = redisUrlOf(res.config);
    const redis = redisOf(res, url);
    try {
      await connectOrFirstError(redis);
    } catch (err) {
      throw new AppError('redis_unreachable', `cannot reach Redis at ${where(url)} (${(err as Error).message}); is the service (and its Redis) running? check REDIS_URL / DATA_DIR`);
    }
    const opened = openOperations(redis, res.config, lazyTokenTypes(res), res.logger);
    res.closeOps = opened.close;
    return opened.operations;
  })();
  return res.ops;
}

/** The same provider registry as the service, so `types` lists what GET /v1/revocable_token_types answers. */
async function registryOf(res: Resources): Promise<ProviderRegistry> {
  if (!res.registry) {
    const { config } = res;
    // Loaded only here: service.js brings the whole HTTP stack, a second of start-up no other command needs.
    const { gitlabProvider } = await import('./service.js');
    // Building the provider sends nothing to Redis: a never-connected client is enough when there is no URL.
    const redis = redisOf(res, config.secrets.redisUrl ?? embeddedRedisUrl(config.dataDir) ?? 'redis://127.0.0.1:6379');
    const instances = config.sandbox ? [sandboxPlaceholder(config)] : config.instances;
    // Its "no admin credential" warning is for the service's log, not for each CLI call.
    const quiet = res.logger.child({}, { level: 'error' });
    res.registry = new ProviderRegistry([gitlabProvider(config, instances, redis, new RedisBreakers(redis, quiet), quiet)]);
  }
  return res.registry;
}

/** Operations needs TokenTypes only for `types()`, which the `types` command answers from `registryOf` directly. */
function lazyTokenTypes(res: Resources): TokenTypes {
  const registry = (): ProviderRegistry => {
    if (!res.registry) throw new Error('token types not loaded');
    return res.registry;
  };
  return { types: () => registry().types(), supports: (type) => registry().supports(type) };
}

/** Sandbox mode adds the built-in simulator (with an admin credential) at start-up; mirror it without starting one. */
function sandboxPlaceholder(config: Config): InstanceConfig {
  const d = config.instanceDefaults;
  return instance({ name: 'sandbox', url: 'http://127.0.0.1', adminToken: 'sandbox-placeholder', group: undefined, tokenPrefix: undefined, ca: undefined, limits: { perSecond: d.perSecond, concurrency: d.concurrency }, strategies: d.strategies });
}

async function release(res: Resources): Promise<void> {
  await res.ops?.catch(() => undefined);
  await res.closeOps?.().catch(() => undefined);
  const redis = res.redis;
  if (redis) {
    if (redis.status === 'ready') await redis.quit().catch(() => redis.disconnect());
    else redis.disconnect();
  }
}

/** host:port of a Redis URL, never its password. */
function where(url: string): string {
  try {
    return new URL(url).host || url.replace(/\/\/[^@]*@/, '//');
  } catch {
    return 'the configured URL';
  }
}

// ---- commands with more to do ----------------------------------------------------------------------------------------

async function replay(ctx: Context): Promise<number> {
  const { values, positionals } = ctx;
  const fp = positionals[0];
  const all = values['all'] === true;
  const hasFilter = ['type', 'instance', 'reason', 'since'].some((k) => values[k] !== undefined);
  const selectors = [fp !== undefined, all, hasFilter].filter(Boolean).length;
  if (selectors === 0) throw new UsageError('replay needs a selector: a fingerprint, filters (--type, --instance, --reason, --since), or --all');
  if (selectors > 1) throw new UsageError('replay takes one kind of selector: a fingerprint, filters, or --all');
  const ops = await ctx.ops();
  if (values['dry-run'] === true) {
    if (fp !== undefined) throw new UsageError('--dry-run lists what filters or --all would replay; for one token use `trapi show`');
    const would = (await ops.failed(all ? {} : filterOf(values))).map((t) => t.fingerprint);
    return emit(ctx, { dryRun: true, count: would.length, wouldQueue: would }, () => [...would.map(short), `${would.length} failed token(s) would be queued (dry run: nothing changed)`]);
  }
  const selection = fp !== undefined ? { fingerprint: fp } : all ? { all: true } : { filter: filterOf(values) };
  const queued = await ops.replay(selection, actorOf(values));
  return emit(ctx, { count: queued.length, queued }, () =>
    queued.length === 0 ? ['nothing to replay: no failed token matches'] : [...queued.map(short), `queued ${queued.length} token(s) for another attempt; follow with \`trapi status\``],
  );
}

async function lookup(ctx: Context): Promise<number> {
  const { stdin } = ctx.io;
  if (stdin.isTTY) throw new UsageError('pipe the token on standard input, e.g. `printf %s "$TOKEN" | trapi lookup` or `trapi lookup < file` (it is never taken as an argument)');
  const token = (await readAll(stdin)).replace(/\r?\n$/, '');
  if (token.trim() === '') throw new UsageError('no token on standard input; e.g. `printf %s "$TOKEN" | trapi lookup`');
  if (/[\r\n]/.test(token)) throw new UsageError('standard input holds more than one line; give one token per lookup');
  const { fingerprint, record } = await (await ctx.ops()).lookup(token);
  return emit(ctx, { fingerprint, record: record ?? null }, () =>
    record ? viewLines(record) : [`fingerprint  ${fingerprint}`, 'no record: the service has not received this token (or its record has expired)'],
  );
}

async function audit(ctx: Context): Promise<number> {
  const { values } = ctx;
  const limitText = str(values, 'limit');
  const limit = limitText === undefined ? undefined : Number(limitText);
  if (limit !== undefined && (!Number.isInteger(limit) || limit < 1)) throw new UsageError(`--limit must be a positive whole number (got ${JSON.stringify(limitText)})`);
  const since = sinceOf(str(values, 'since'));
  const ops = await ctx.ops();
  const given = str(values, 'fingerprint');
  let fingerprint: string | undefined;
  if (given !== undefined) {
    // The audit trail matches whole fingerprints: expand a prefix through the records.
    fingerprint = given.trim().toLowerCase();
    if (fingerprint.length < 64) {
      const view = await ops.show(fingerprint);
      if (!view) throw new AppError('not_found', `no token record starts with ${fingerprint}; give the full fingerprint`, 404);
      fingerprint = view.fingerprint;
    }
  }
  const entries = await ops.audit({ ...(fingerprint ? { fingerprint } : {}), ...(since !== undefined ? { since } : {}), ...(limit !== undefined ? { limit } : {}) });
  return emit(ctx, { count: entries.length, entries }, () => auditLines(entries));
}

// ---- options ---------------------------------------------------------------------------------------------------------

const str = (values: Values, key: string): string | undefined => (typeof values[key] === 'string' ? values[key] : undefined);

function filterOf(values: Values): FailedFilter {
  const type = str(values, 'type');
  const instanceName = str(values, 'instance');
  const reason = str(values, 'reason');
  const since = sinceOf(str(values, 'since'));
  return { ...(type ? { type } : {}), ...(instanceName ? { instance: instanceName } : {}), ...(reason ? { reason } : {}), ...(since !== undefined ? { since } : {}) };
}

const UNIT_MS: Readonly<Record<string, number>> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** An ISO date/time, or an age like `30m`, `2h`, `7d`: epoch ms. */
export function sinceOf(text: string | undefined, now = Date.now()): number | undefined {
  if (text === undefined) return undefined;
  const age = /^(\d+(?:\.\d+)?)([smhd])$/.exec(text.trim());
  if (age) return now - Number(age[1]) * (UNIT_MS[age[2] ?? ''] ?? 0);
  const at = /^\d{4}-\d{2}-\d{2}/.test(text.trim()) ? Date.parse(text.trim()) : NaN;
  if (Number.isNaN(at)) throw new UsageError(`--since ${JSON.stringify(text)} is neither an ISO date/time (2025-01-31T02:00:00Z) nor an age (30m, 2h, 7d)`);
  return at;
}

function actorOf(values: Values): string {
  const given = str(values, 'actor')?.trim();
  if (given) return given.startsWith('cli:') ? given : `cli:${given}`;
  let user: string;
  try {
    user = userInfo().username;
  } catch {
    user = process.env['USER'] ?? process.env['LOGNAME'] ?? 'unknown';
  }
  return `cli:${user}@${hostname()}`;
}

// ---- output ----------------------------------------------------------------------------------------------------------

function emit(ctx: Context, document: unknown, human: () => readonly string[]): number {
  ctx.io.stdout.write(ctx.json ? `${JSON.stringify(document, null, 2)}\n` : human().map((l) => `${l}\n`).join(''));
  return OK;
}

const short = (fp: string): string => fp.slice(0, 12);

function table(header: readonly string[], rows: ReadonlyArray<readonly string[]>): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0))).join('  ').trimEnd();
  return [line(header), ...rows.map(line)];
}

function age(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined) return '-';
  if (seconds < 120) return `${seconds}s`;
  if (seconds < 7200) return `${Math.round(seconds / 60)}m`;
  if (seconds < 172_800) return `${Math.round(seconds / 3600)}h`;
  return `${Math.round(seconds / 86_400)}d`;
}

function statusLines(s: Status): string[] {
  const states = ['waiting', 'prioritized', 'delayed', 'active', 'failed', 'completed'];
  const rows = Object.entries(s.jobs).map(([queue, counts]) => [queue, ...states.map((st) => String(counts[st] ?? 0)), age(s.oldestWaitingSeconds[queue])]);
  const breakers = Object.entries(s.breakers);
  return [
    `processing  ${s.paused ? 'PAUSED (run `trapi resume` to restart)' : 'running'}`,
    `workers     ${s.workers < 0 ? 'unknown (CLIENT LIST refused)' : s.workers === 0 ? '0 (NO WORKER IS RUNNING)' : s.workers}`,
    `breakers    ${breakers.length === 0 ? 'all closed' : `${breakers.length} OPEN (jobs needing them are held)`}`,
    ...breakers.map(([name, b]) => `  ${name}  refused since ${b.since}: ${b.reason}`),
    '',
    ...table(['queue', ...states, 'oldest waiting'], rows),
  ];
}

const REASON_WIDTH = 100;

function failedLines(failed: readonly FailedToken[]): string[] {
  if (failed.length === 0) return ['no failed tokens match'];
  const rows = failed.map((t) => [short(t.fingerprint), t.type, t.instance ?? '-', t.failedAt, String(t.attempts), t.reason.length > REASON_WIDTH ? `${t.reason.slice(0, REASON_WIDTH - 1)}…` : t.reason]);
  return [...table(['fingerprint', 'type', 'instance', 'failed at', 'attempts', 'reason'], rows), '', `${failed.length} failed token(s); \`trapi show <fingerprint>\` for the full reason and history`];
}

function viewLines(v: TokenView): string[] {
  const id = v.identified ? Object.entries(v.identified).map(([k, val]) => `${k}=${typeof val === 'object' ? JSON.stringify(val) : String(val)}`).join(' ') : undefined;
  const field = (label: string, value: string | number | undefined): string[] => (value === undefined || value === '' ? [] : [`${label.padEnd(12)} ${value}`]);
  return [
    ...field('fingerprint', v.fingerprint),
    ...field('type', v.type),
    ...field('state', v.state + (v.job ? `  (job ${v.job.state}${v.job.failedReason ? `: ${v.job.failedReason}` : ''})` : '')),
    ...field('instance', v.instance),
    ...field('strategy', v.strategy),
    ...field('identified', id),
    ...field('received', `${v.received} time(s), first ${v.firstReceivedAt}, last ${v.lastReceivedAt}`),
    ...field('attempts', v.attempts),
    ...field('last error', v.lastError === undefined ? undefined : `${v.lastError}${v.lastSummary ? `: ${v.lastSummary}` : ''}`),
    ...(v.locations.length > 0 ? ['locations', ...v.locations.map((l) => `  ${l}`)] : []),
    'history (newest first)',
    ...table(['  at', 'event', 'actor', 'detail'], v.events.map((e) => [`  ${e.at}`, e.event, e.actor, e.detail ?? ''])).slice(1),
  ];
}

function auditLines(entries: readonly AuditEntry[]): string[] {
  if (entries.length === 0) return ['no audit entries match'];
  return table(['at', 'actor', 'action', 'fingerprint', 'detail'], entries.map((e) => [e.at, e.actor, e.action, e.fingerprint ? short(e.fingerprint) : '-', e.detail ?? '']));
}

// ---- errors and process ----------------------------------------------------------------------------------------------

const OPERATION_FAILED = new Set(['not_found', 'not_failed', 'ambiguous_fingerprint', 'redis_unreachable', 'redis_unknown']);

function classifyError(err: unknown): [code: number, message: string] {
  if (err instanceof UsageError) return [USAGE, err.message];
  if (err instanceof ConfigError) return [USAGE, `${err.message}\nSee the configuration table in README.md (the CLI reads the same environment as the service).`];
  if (err instanceof AppError) {
    if (err.code === 'invalid_request' || err.code === 'invalid_configuration') return [USAGE, err.message];
    if (OPERATION_FAILED.has(err.code)) return [FAILED, err.message];
    return [FAILED, `${err.code}: ${err.message}`];
  }
  // Anything else comes from Redis or BullMQ mid-command (connection lost, timeout).
  const message = (err as Error)?.message ?? String(err);
  return [FAILED, `operation failed: ${message.split('\n')[0]}; check that Redis is reachable and retry`];
}

function fail(io: CliIo, code: number, message: string): number {
  io.stderr.write(`trapi: ${message}\n`);
  return code;
}

function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer | string) => chunks.push(typeof c === 'string' ? Buffer.from(c) : c));
    stream.once('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    stream.once('error', reject);
  });
}

function processIo(): CliIo {
  return { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin, env: process.env };
}

/** True when this file is the process's entry point (also through the npm bin symlink). */
function isEntryPoint(): boolean {
  const script = process.argv[1];
  if (script === undefined) return false;
  try {
    return realpathSync(script) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (isEntryPoint()) {
  void main(process.argv.slice(2)).then(async (code) => {
    // Everything is closed, but ioredis keeps a 2 s timer after disconnecting a refused socket: once the output is
    // flushed, exit rather than make an on-call terminal wait for it.
    const flushed = (stream: NodeJS.WriteStream) => new Promise((resolve) => stream.write('', resolve));
    await Promise.all([flushed(process.stdout), flushed(process.stderr)]);
    process.exit(code);
  });
}
