// trapi's output: the --json document or the human lines, and the tables the commands print.
import type { AuditEntry, FailedToken, Status, TokenView } from '../domain/ports.js';
import { OK } from './args.js';
import type { Context } from './types.js';

export function emit(ctx: Context, document: unknown, human: () => readonly string[]): number {
  ctx.io.stdout.write(ctx.json ? `${JSON.stringify(document, null, 2)}\n` : human().map((l) => `${l}\n`).join(''));
  return OK;
}

export const short = (fp: string): string => fp.slice(0, 12);

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

export function statusLines(s: Status): string[] {
  const states = ['waiting', 'prioritized', 'delayed', 'active', 'failed', 'completed'];
  const rows = Object.entries(s.jobs).map(([queue, counts]) => [queue, ...states.map((st) => String(counts[st] ?? 0)), age(s.oldestWaitingSeconds[queue])]);
  const breakers = Object.entries(s.breakers);
  return [
    `processing  ${s.paused ? 'PAUSED (run `trapi resume` to restart)' : 'running'}`,
    `workers     ${s.workers < 0 ? 'unknown (CLIENT LIST refused)' : s.workers === 0 ? '0 (NO WORKER IS RUNNING)' : s.workers}`,
    `breakers    ${breakers.length === 0 ? 'all closed' : `${breakers.length} OPEN (jobs needing them are held)`}`,
    ...breakers.map(([name, b]) => `  ${name}  ${name.endsWith(':rotation') ? 'cannot be rotated' : 'refused'} since ${b.since}: ${b.reason}`),
    `manual      ${s.needsManual === 0 ? 'none' : `${s.needsManual} report-only token(s) NEED MANUAL REVOCATION (\`trapi failed list --reason report_only\`, then \`trapi resolve\`)`}`,
    ...waitingLines(s.waiting),
    ...credentialLines(s.credentials),
    '',
    ...table(['queue', ...states, 'oldest waiting'], rows),
  ];
}

/** Why unsettled tokens wait (a budget, a batch, a confirmation, a retry), most common first. */
function waitingLines(waiting: Status['waiting']): string[] {
  const entries = Object.entries(waiting).sort((a, b) => b[1] - a[1]);
  return entries.length === 0 ? [] : ['waiting     tokens by why they wait:', ...entries.map(([why, n]) => `  ${why}  ${n}`)];
}

function credentialLines(credentials: Status['credentials']): string[] {
  const entries = Object.entries(credentials);
  if (entries.length === 0) return [];
  const rows = entries.map(([name, c]) => [
    name,
    c.rotation,
    c.expiresAt,
    c.lastRotatedAt ?? '-',
    c.checkedAt ?? '-',
    c.problem ? `${c.problem.reason}: ${c.problem.summary}` : c.rotating ? 'rotation under way' : 'ok',
  ]);
  return ['', ...table(['credential', 'rotation', 'expires', 'last rotated', 'checked', 'state'], rows)];
}

const REASON_WIDTH = 100;

export function failedLines(failed: readonly FailedToken[]): string[] {
  if (failed.length === 0) return ['no failed tokens match'];
  const rows = failed.map((t) => [short(t.fingerprint), t.type, t.instance ?? '-', t.failedAt, String(t.attempts), t.reason.length > REASON_WIDTH ? `${t.reason.slice(0, REASON_WIDTH - 1)}…` : t.reason]);
  return [...table(['fingerprint', 'type', 'instance', 'failed at', 'attempts', 'reason'], rows), '', `${failed.length} failed token(s); \`trapi show <fingerprint>\` for the full reason and history`];
}

export function viewLines(v: TokenView): string[] {
  const id = v.identified ? Object.entries(v.identified).map(([k, val]) => `${k}=${typeof val === 'object' ? JSON.stringify(val) : String(val)}`).join(' ') : undefined;
  const field = (label: string, value: string | number | undefined): string[] => (value === undefined || value === '' ? [] : [`${label.padEnd(12)} ${value}`]);
  return [
    ...field('fingerprint', v.fingerprint),
    ...field('type', v.type),
    ...field('state', v.state + (v.job ? `  (job ${v.job.state}${v.job.failedReason ? `: ${v.job.failedReason}` : ''})` : '')),
    ...field('instance', v.instance),
    ...field('strategy', v.strategy),
    ...field('identified', id),
    ...field('confirmed', v.confirmed === undefined ? undefined : v.confirmed ? 'yes: the token itself was seen refused after the call' : 'NO: accepted by the vendor, nothing can prove it dead'),
    ...field('received', `${v.received} time(s), first ${v.firstReceivedAt}, last ${v.lastReceivedAt}`),
    ...field('attempts', v.attempts),
    ...field('last error', v.lastError === undefined ? undefined : `${v.lastError}${v.lastSummary ? `: ${v.lastSummary}` : ''}`),
    ...(v.locations.length > 0 ? ['locations', ...v.locations.map((l) => `  ${l}`)] : []),
    'history (newest first)',
    ...table(['  at', 'event', 'actor', 'detail'], v.events.map((e) => [`  ${e.at}`, e.event, e.actor, e.detail ?? ''])).slice(1),
  ];
}

export function auditLines(entries: readonly AuditEntry[]): string[] {
  if (entries.length === 0) return ['no audit entries match'];
  return table(['at', 'actor', 'action', 'fingerprint', 'detail'], entries.map((e) => [e.at, e.actor, e.action, e.fingerprint ? short(e.fingerprint) : '-', e.detail ?? '']));
}
