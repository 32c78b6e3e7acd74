// trapi's commands: the command table (usage, help, options) and what each command does.
import { randomBytes } from 'node:crypto';
import { AppError, type ErrorCode } from '../errors.js';
import { ACTOR, ACTOR_HELP, FAILED, FILTERS, OK, SINCE_HELP, UsageError, actorOf, filterOf, sinceOf, str } from './args.js';
import { auditLines, emit, failedLines, short, statusLines, viewLines } from './format.js';
import { progressOf } from './progress.js';
import type { Command, Context } from './types.js';

export const COMMANDS: Readonly<Record<string, Command>> = {
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
    details: 'A unique prefix of at least 8 hex characters is enough. --json prints the record (with its fingerprint) as lookup does; no record: exit 1.',
    options: {},
    positionals: [1, 1],
    run: async (ctx) => {
      const given = ctx.positionals[0] ?? '';
      const view = await (await ctx.ops()).show(given);
      if (!view) throw new AppError('not_found', `no token record starts with ${given.trim().toLowerCase()}; check the fingerprint (\`trapi failed list\`, or \`trapi lookup\` with the token)`);
      return emit(ctx, view, () => viewLines(view));
    },
  },
  replay: {
    usage: 'trapi replay <fingerprint-or-prefix> | trapi replay [--type T] [--instance I] [--reason PREFIX] [--since WHEN] | trapi replay --all   [--dry-run] [--actor NAME] [--json]',
    summary: 'requeue failed tokens with fresh attempts and retry horizon (after fixing the cause)',
    details: `Give one token, filters, or --all; with no selector nothing is replayed. --dry-run lists what would be queued.\nOn a terminal, progress goes to stderr (replayed 500/2000); never with --json.\n${SINCE_HELP}\n${ACTOR_HELP}`,
    options: { ...FILTERS, ...ACTOR, all: { type: 'boolean' }, 'dry-run': { type: 'boolean' } },
    positionals: [0, 1],
    run: replay,
  },
  resolve: {
    usage: 'trapi resolve <fingerprint-or-prefix>... | trapi resolve - (fingerprints on stdin, one a line)   --reason "TEXT" [--actor NAME] [--json]',
    summary: 'mark failed tokens as handled out of band (audited; resends of them are not queued again)',
    details: `Several fingerprints (or \`-\` to read them from standard input, one a line) are resolved one by one with the same reason;\none that cannot be (not failed, not found) is reported and the others go on (exit 1 if any could not).\nOn a terminal, progress goes to stderr (resolved 500/2000); never with --json.\n${ACTOR_HELP}`,
    options: { ...ACTOR, reason: { type: 'string' } },
    positionals: [1, 100_000],
    run: resolve,
  },
  lookup: {
    usage: 'printf %s "$TOKEN" | trapi lookup [--json]',
    summary: 'fingerprint and record of a token read from standard input (never from an argument)',
    details: 'The token is read until end of input (one trailing newline is dropped); it is never printed or logged.\n--json prints the record (with its fingerprint) as show does; no record: its fingerprint on stderr, exit 1.',
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
  'new-token': {
    usage: 'trapi new-token [--json]',
    summary: 'generate a strong pre-shared token for GitLab, and print how to switch to it without a gap',
    details: 'Prints the token and the steps: add it to REVOCATION_API_TOKENS (keep the old one), reload (SIGHUP) or restart, install it in GitLab, then remove the old one.',
    options: {},
    positionals: [0, 0],
    run: async (ctx) => {
      const token = `trapi_${randomBytes(32).toString('base64url')}`;
      const gitlab = ctx.io.env['GITLAB_URL'] ?? 'https://gitlab.example.com';
      const curl = `curl --request PUT "${gitlab}/api/v4/application/settings" --header "PRIVATE-TOKEN: <an administrator's token>" --data-urlencode "secret_detection_token_revocation_token=${token}"`;
      return emit(ctx, { token, gitlabApiCall: curl }, () => [
        `new pre-shared token: ${token}`,
        '1. add it to REVOCATION_API_TOKENS (comma-separated, keep the current one) on every API process;',
        '   then send SIGHUP (kill -HUP <pid>) or restart them: both tokens are accepted from then on.',
        '2. install it in GitLab:',
        `   ${curl}`,
        '3. once GitLab uses it, remove the old token from REVOCATION_API_TOKENS and reload again.',
      ]);
    },
  },
  rekey: {
    usage: 'trapi rekey [--actor NAME] [--json]',
    summary: 're-seal queued and failed tokens and stored GitLab credentials under the newest TOKEN_ENCRYPTION_KEY, so an older key can be removed',
    details: `Run after putting the new key first in TOKEN_ENCRYPTION_KEY (comma-separated, newest first) everywhere.\nAn old key may be removed once "still used" lists it no more.\nOn a terminal, progress goes to stderr (jobs looked at, 500 at a time); never with --json.\n${ACTOR_HELP}`,
    options: ACTOR,
    positionals: [0, 0],
    run: async (ctx) => {
      const actor = actorOf(ctx.values);
      const report = await (await ctx.ops()).rekey(actor, progressOf(ctx, 're-sealed (jobs looked at)'));
      return emit(ctx, report, () => [
        `re-sealed ${report.rekeyed} job(s) and ${report.credentials} stored GitLab credential(s) under the newest key; ${report.current} already were; ${report.skippedActive} running job(s) left as they are`,
        report.stillUsed.length === 0 ? 'nothing uses an older key: older keys can be removed' : `still used (keep these keys): ${report.stillUsed.join(', ')}`,
      ]);
    },
  },
  feedback: {
    usage: 'trapi feedback retry [--actor NAME] [--json]',
    summary: 'requeue the notes (and resolves) on vulnerabilities that failed for good, once the cause is fixed',
    details: `The feedback failed set holds notes the instance kept refusing (credential, outage, mutation errors); see the runbook.
${ACTOR_HELP}`,
    options: ACTOR,
    positionals: [1, 1],
    run: async (ctx) => {
      const sub = ctx.positionals[0] ?? '';
      if (sub !== 'retry') throw new UsageError(`unknown subcommand "feedback ${sub}"; did you mean \`trapi feedback retry\`?`);
      const actor = actorOf(ctx.values);
      const retried = await (await ctx.ops()).retryFeedback(actor);
      return emit(ctx, { retried, actor }, () => [retried === 0 ? 'nothing to retry: the feedback failed set is empty' : `requeued ${retried} feedback job(s); follow with \`trapi status\``]);
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
  const queued = await ops.replay(selection, actorOf(values), progressOf(ctx, 'replayed'));
  return emit(ctx, { count: queued.length, queued }, () =>
    queued.length === 0 ? ['nothing to replay: no failed token matches'] : [...queued.map(short), `queued ${queued.length} token(s) for another attempt; follow with \`trapi status\``],
  );
}

/** Codes that refuse one token of a `resolve` list: reported, and the others go on. */
const PER_TOKEN_REFUSALS = new Set<ErrorCode>(['not_found', 'not_failed', 'ambiguous_fingerprint', 'invalid_request']);

async function resolve(ctx: Context): Promise<number> {
  const reason = str(ctx.values, 'reason');
  if (reason === undefined || reason.trim() === '') throw new UsageError('resolve needs --reason "what was done", e.g. --reason "rotated by hand"');
  const actor = actorOf(ctx.values);
  const ops = await ctx.ops();
  const given = ctx.positionals;
  if (given.length === 1 && given[0] !== '-') {
    const view = await ops.resolve(given[0] ?? '', reason, actor);
    return emit(ctx, view, () => [`resolved ${short(view.fingerprint)} (${view.type}): ${reason}`]);
  }
  if (given.includes('-') && given.length > 1) throw new UsageError('give fingerprints as arguments or `-` (standard input), not both');
  const fps = given[0] === '-' ? (await readAll(ctx.io.stdin)).split(/\r?\n/).map((l) => l.trim()).filter(Boolean) : [...given];
  if (fps.length === 0) throw new UsageError('no fingerprint on standard input (one a line)');
  const progress = progressOf(ctx, 'resolved');
  const resolved: Array<{ fingerprint: string; type: string }> = [];
  const refused: Array<{ given: string; error: string; message: string }> = [];
  for (const [i, fp] of fps.entries()) {
    try {
      const view = await ops.resolve(fp, reason, actor);
      resolved.push({ fingerprint: view.fingerprint, type: view.type });
    } catch (err) {
      // One token not failed (or unknown) does not stop the others; anything else (Redis gone) does.
      if (!(err instanceof AppError) || !PER_TOKEN_REFUSALS.has(err.code)) throw err;
      refused.push({ given: fp, error: err.code, message: err.message });
    }
    progress?.(i + 1, fps.length);
  }
  emit(ctx, { count: resolved.length, resolved, refused }, () => [
    ...resolved.map((r) => `resolved ${short(r.fingerprint)} (${r.type})`),
    ...refused.map((r) => `not resolved ${r.given}: ${r.message}`),
    `resolved ${resolved.length} of ${fps.length} token(s): ${reason}`,
  ]);
  return refused.length > 0 ? FAILED : OK;
}

async function lookup(ctx: Context): Promise<number> {
  const { stdin } = ctx.io;
  if (stdin.isTTY) throw new UsageError('pipe the token on standard input, e.g. `printf %s "$TOKEN" | trapi lookup` or `trapi lookup < file` (it is never taken as an argument)');
  const token = (await readAll(stdin)).replace(/\r?\n$/, '');
  if (token.trim() === '') throw new UsageError('no token on standard input; e.g. `printf %s "$TOKEN" | trapi lookup`');
  if (/[\r\n]/.test(token)) throw new UsageError('standard input holds more than one line; give one token per lookup');
  const { fingerprint, record } = await (await ctx.ops()).lookup(token);
  // One shape and one rule with `show`: the record at the top level, and "nothing found" is a failure (exit 1).
  if (!record) throw new AppError('not_found', `no record of the token with fingerprint ${fingerprint}: the service has not received it (or its record has expired)`);
  return emit(ctx, record, () => viewLines(record));
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
      if (!view) throw new AppError('not_found', `no token record starts with ${fingerprint}; give the full fingerprint`);
      fingerprint = view.fingerprint;
    }
  }
  const entries = await ops.audit({ ...(fingerprint ? { fingerprint } : {}), ...(since !== undefined ? { since } : {}), ...(limit !== undefined ? { limit } : {}) });
  return emit(ctx, { count: entries.length, entries }, () => auditLines(entries));
}

function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer | string) => chunks.push(typeof c === 'string' ? Buffer.from(c) : c));
    stream.once('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    stream.once('error', reject);
  });
}
