#!/usr/bin/env node
// trapi: the on-call command line. Reads the same configuration as the service and calls the same Operations.
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { AppError, ConfigError, type ErrorCode } from './errors.js';
import { createLogger } from './logger.js';
import { packageVersion } from './paths.js';
import { FAILED, LOOKUP_FROM_ARGUMENT, OK, USAGE, UsageError, parse } from './cli/args.js';
import { COMMANDS } from './cli/commands.js';
import { operationsOf, readConfig, registryOf, release, type Resources } from './cli/resources.js';
import type { CliIo, Command } from './cli/types.js';

export type { CliIo } from './cli/types.js';
export { sinceOf } from './cli/args.js';

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
    const config = readConfig(io.env);
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

// ---- errors and process ----------------------------------------------------------------------------------------------

const OPERATION_FAILED = new Set<ErrorCode>(['not_found', 'not_failed', 'ambiguous_fingerprint', 'redis_unreachable', 'redis_unknown']);

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
