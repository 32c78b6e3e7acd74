// The drain section's printed report: the table, the ratio against the target, and what explains the figure.
import { CALLS_PER_TOKEN, DRAIN_TARGET, type DrainResult } from './drain.js';

const fmt = (n: number, digits = 0) => n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });

export function drainReport(r: DrainResult): string {
  const s = r.settings;
  // Rounded down, so that a ratio printed as 90.0% is never one that missed the 90% target.
  const pct = (x: number) => `${(Math.floor(x * 1000) / 10).toFixed(1)}%`;
  const header = ['tokens drained', 'seconds', 'tokens/s', 'GitLab calls/s', 'configured limit calls/s', 'calls/s ÷ limit'];
  const cells = [fmt(r.drained), fmt(r.seconds, 2), fmt(r.tokensPerS, 1), fmt(r.callsPerS, 1), fmt(s.limitPerSecond), pct(r.ratio)];
  const widths = header.map((h, i) => Math.max(h.length, (cells[i] ?? '').length));
  const line = (cs: readonly string[]) => cs.map((c, i) => c.padStart(widths[i] ?? 0)).join(' | ');
  const w = r.windows;
  const lines = [
    `Drain of a ${fmt(s.tokens)}-token backlog (personal access tokens, strategy admin: ${CALLS_PER_TOKEN} calls each) against the GitLab simulator at ${s.latencyMs} ms per call`,
    `  backlog: ${r.requests} requests × ${s.tokensPerRequest} tokens accepted by ROLE=api with no worker running, then one ROLE=worker process started`,
    `  worker: GITLAB_RATE_LIMIT_PER_SECOND=${s.limitPerSecond} GITLAB_CONCURRENCY=${s.gitlabConcurrency} WORKER_CONCURRENCY=${s.workerConcurrency} LOG_LEVEL=${s.logLevel}`,
    '',
    line(header),
    widths.map((n) => '-'.repeat(n)).join('-|-'),
    line(cells),
    '',
    `  calls/s ÷ limit = ${pct(r.ratio)}   target ≥ ${DRAIN_TARGET * 100}%: ${r.ratio >= DRAIN_TARGET ? 'MET' : 'NOT MET'}`,
    `  timed from the first revocation call GitLab received to the last revoking call it answered (simulator clock); worker start-up before that ` +
      `(${fmt(r.startupS, 2)} s after its spawn) excluded. From the spawn: ${fmt(r.fromSpawnS, 2)} s, ${fmt(r.callsPerSFromSpawn, 1)} calls/s = ${pct(r.callsPerSFromSpawn / s.limitPerSecond)} of the limit.`,
    `  revocation calls at GitLab: ${fmt(r.calls)}; all calls by route (the worker's start-up credential check included): ${Object.entries(r.callsByRoute).map(([k, v]) => `${k}: ${fmt(v)}`).join(', ')}`,
    `  exactly one revoking call per token: ${fmt(r.exactlyOnce)} of ${fmt(s.tokens)}; not exactly one: ${fmt(r.notExactlyOnce)}, not revoked: ${fmt(r.notRevoked)}`,
    `  fan-out (by the same worker process, while it revokes): ${r.fanOut.completed} intake jobs done ` +
      (r.fanOut.doneAfterFirstCallS === undefined ? '(no completion event found)' : `${fmt(r.fanOut.doneAfterFirstCallS, 2)} s after the first call`),
    `  jobs left: failed ${r.queue.failed}, intake failed ${r.queue.intakeFailed}, waiting ${r.queue.waiting}, delayed ${r.queue.delayed}`,
    `  per calendar second at GitLab (${w.fullWindows} full seconds): calls min/median/max ${fmt(w.callsMin)}/${fmt(w.callsMedian)}/${fmt(w.callsMax)}; ` +
      (w.exhaustedAtMedianMs === undefined
        ? `the limit was never reached within a window: the worker, not the limiter, set the pace`
        : `${w.exhaustedWindows} reached the limit, its last allowed call a median ${fmt(w.exhaustedAtMedianMs)} ms into the second (near 1000: steady, no burst)`),
  ];
  const under = w.perWindow.map((n, i) => ({ n, i })).filter(({ n, i }) => i > 0 && i < w.perWindow.length - 1 && n < s.limitPerSecond);
  if (under.length > 0) lines.push(`  full seconds under the limit (second index: calls): ${under.map(({ n, i }) => `${i}: ${n}`).join(', ')}`);
  if (r.problems.length > 0) lines.push(`  !! FAILED: ${r.problems.join('; ')}`);
  return lines.join('\n');
}
