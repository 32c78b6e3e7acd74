// GitLab-shaped load for the failover tests: batches POSTed by a few senders at once, each resent until 204 (as GitLab
// resends a batch it got no 2xx for), with every answer's time and status kept for the report.
import request from 'supertest';
import type { GitLabSimulator } from '../../simulator/index.js';
import { API_TOKEN, eventually, item } from './service.js';

export interface Answer {
  readonly at: number;
  /** 0: no HTTP answer (connection refused or reset). */
  readonly status: number;
}

export interface LoadReport {
  /** Every token of a batch answered 204, in the order the 204s came. */
  readonly accepted: string[];
  readonly answers: readonly Answer[];
  /** The longest run of consecutive non-2xx answers (by arrival), and the time from its first to the next 2xx. */
  readonly longestOutage: { readonly answers: number; readonly ms: number };
}

export interface LoadOptions {
  readonly batchSize?: number;
  readonly senders?: number;
  /** Called after each accepted batch with the number of tokens accepted so far (e.g. to kill a node mid-load). */
  readonly onAccepted?: (accepted: number) => void;
  /** Gives up on a batch after this long without a 204 (the test then fails on the missing tokens). */
  readonly batchTimeoutMs?: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** POSTs `tokens` to `url` in batches until each batch is answered 204. */
export async function sendInBatches(url: string, tokens: readonly string[], opts: LoadOptions = {}): Promise<LoadReport> {
  const size = opts.batchSize ?? 100;
  const batches: string[][] = [];
  for (let i = 0; i < tokens.length; i += size) batches.push(tokens.slice(i, i + size));
  const accepted: string[] = [];
  const answers: Answer[] = [];
  let next = 0;
  const sender = async () => {
    for (let b = next++; b < batches.length; b = next++) {
      const batch = batches[b]!;
      const give = Date.now() + (opts.batchTimeoutMs ?? 60_000);
      for (;;) {
        const status = await request(url)
          .post('/v1/revoke_tokens')
          .set('Authorization', API_TOKEN)
          .timeout(10_000)
          .send(batch.map((t) => item(t)))
          .then((r) => r.status, () => 0);
        answers.push({ at: Date.now(), status });
        if (status === 204) {
          accepted.push(...batch);
          opts.onAccepted?.(accepted.length);
          break;
        }
        if (Date.now() > give) break;
        await sleep(100);
      }
    }
  };
  await Promise.all(Array.from({ length: opts.senders ?? 4 }, sender));
  return { accepted, answers, longestOutage: longestOutage(answers) };
}

function longestOutage(answers: readonly Answer[]): { answers: number; ms: number } {
  const sorted = [...answers].sort((a, b) => a.at - b.at);
  let best = { answers: 0, ms: 0 };
  let start: number | undefined;
  let run = 0;
  for (const a of sorted) {
    const ok = a.status >= 200 && a.status < 300;
    if (!ok) {
      start ??= a.at;
      run++;
    } else if (start !== undefined) {
      if (a.at - start > best.ms) best = { answers: run, ms: a.at - start };
      start = undefined;
      run = 0;
    }
  }
  return best;
}

/** Successful revocation calls (DELETE answered 204) per token, from the simulator's call log. */
export function revocationsPerToken(sim: GitLabSimulator): Map<string, number> {
  const counts = new Map<string, number>();
  for (const c of sim.calls({ method: 'DELETE', status: 204 })) if (c.token) counts.set(c.token, (counts.get(c.token) ?? 0) + 1);
  return counts;
}

/**
 * Waits until the simulator has revoked every token; resolves with when 99% and when all were (ms since epoch). The
 * last few can wait for BullMQ's stalled-job check: a job active on the killed master is taken up again then.
 */
export async function allRevoked(sim: GitLabSimulator, tokens: readonly string[], timeoutMs = 120_000): Promise<{ at99: number; atAll: number }> {
  let at99: number | undefined;
  await eventually(() => {
    const revoked = tokens.filter((t) => sim.stateOf(t) === 'revoked').length;
    if (at99 === undefined && revoked >= tokens.length * 0.99) at99 = Date.now();
    return revoked === tokens.length;
  }, 'every accepted token revoked', timeoutMs);
  const atAll = Date.now();
  return { at99: at99 ?? atAll, atAll };
}
