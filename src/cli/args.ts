// trapi's command-line arguments: exit codes, usage errors, option specs, parsing and the option readers.
import { hostname, userInfo } from 'node:os';
import { parseArgs } from 'node:util';
import type { FailedFilter } from '../domain/ports.js';
import type { Command, OptionSpec, Values } from './types.js';

/** Exit codes: 0 done, 1 the operation failed, 2 usage or configuration error. */
export const OK = 0;
export const FAILED = 1;
export const USAGE = 2;

/** A mistake in how the command was called: exit 2. */
export class UsageError extends Error {}

const COMMON: OptionSpec = { json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } };
export const ACTOR: OptionSpec = { actor: { type: 'string' } };
export const FILTERS: OptionSpec = { type: { type: 'string' }, instance: { type: 'string' }, reason: { type: 'string' }, since: { type: 'string' } };

export const SINCE_HELP = '--since accepts an ISO date or time (2025-01-31, 2025-01-31T02:00:00Z) or an age: 30m, 2h, 7d.';
export const ACTOR_HELP = `--actor NAME names you in the audit trail (recorded as cli:NAME); default cli:<user>@<host>.`;

export const LOOKUP_FROM_ARGUMENT = 'lookup never takes the token as an argument (it would stay in shell history and process lists); pipe it: `printf %s "$TOKEN" | trapi lookup`';

export function parse(name: string, command: Command, args: readonly string[]): { values: Values; positionals: string[] } {
  try {
    const { values, positionals } = parseArgs({ args: [...args], options: { ...COMMON, ...command.options }, allowPositionals: true, strict: true });
    return { values: values as Values, positionals };
  } catch (err) {
    // parseArgs quotes the offending argument: for lookup, that could be the token.
    if (name === 'lookup') throw new UsageError(`unknown option; ${LOOKUP_FROM_ARGUMENT}`);
    throw new UsageError(`${(err as Error).message.split('\n')[0] ?? 'bad arguments'}; usage: ${command.usage}`);
  }
}

export const str = (values: Values, key: string): string | undefined => (typeof values[key] === 'string' ? values[key] : undefined);

export function filterOf(values: Values): FailedFilter {
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

export function actorOf(values: Values): string {
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
