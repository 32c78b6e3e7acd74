// Gathers tokens from many jobs into POST /credentials/revoke calls of up to 1,000, within a budget shared by every replica.
import type { HttpClient } from '../http-client.js';
import type { Outcome } from '../../src/domain/outcome.js';
import type { CallBudget, CredentialBreakers } from '../contract.js';
import type { Logger } from '../../src/logger.js';
import { call } from './client.js';
import { classify, type Classified } from './classify.js';
import type { Submissions } from './submissions.js';

/** GitHub's documented maximum per request. */
export const MAX_BATCH = 1000;
export const BUDGET_KEY = 'github:revoke';
export const TOKEN_BREAKER = 'github:token';
export const HOUR_MS = 3_600_000;
/** After a 422 ("validation failed, or the endpoint has been spammed") nobody calls for this long: GitHub may be shedding load. */
export const SPAMMED_PAUSE_MS = 5 * 60_000;
const MAX_BACKOFF_MS = 5 * 60_000;
/**
 * A batch is sent once no token joined for `batchWaitMs` (a burst is over), or once it holds 1,000, and at the latest
 * this many quiet periods after its first token joined (a steady trickle does not hold a batch back for ever).
 */
const MAX_WAIT_PERIODS = 10;

export interface BatchOptions {
  readonly client: HttpClient;
  /** Our GHES credential, or undefined (api.github.com: the call must be unauthenticated). */
  readonly bearer: string | undefined;
  readonly requestsPerHour: number;
  readonly batchWaitMs: number;
  readonly confirmAfterMs: number;
  readonly budget: CallBudget;
  readonly breakers: CredentialBreakers;
  readonly submissions: Submissions;
  readonly logger: Logger;
}

interface Entry {
  /** Plaintext, in this process's memory only, until GitHub accepted it. */
  readonly token: string;
  /** Submissions already recorded when it joined: a higher count means another replica sent it meanwhile. */
  readonly basis: number;
  readonly joinedAt: number;
}

type Hold = 'budget' | 'backoff' | 'credential';

export class RevokeBatch {
  #waiting = new Map<string, Entry>();
  #lastJoinedAt = 0;
  readonly #inFlight = new Map<string, Entry>();
  #hold: Hold | undefined;
  #holdUntil = 0;
  #failures = 0;
  #timer: NodeJS.Timeout | undefined;
  #sending: Promise<void> | undefined;
  #closed = false;

  constructor(private readonly o: BatchOptions) {}

  has(fingerprint: string): boolean {
    return this.#waiting.has(fingerprint) || this.#inFlight.has(fingerprint);
  }

  get size(): number {
    return this.#waiting.size + this.#inFlight.size;
  }

  /** Adds a token (once: a job asking again finds it here) and says what its job should be told. */
  join(fingerprint: string, token: string, basis: number): Outcome {
    if (!this.has(fingerprint) && !this.#closed) {
      this.#lastJoinedAt = Date.now();
      this.#waiting.set(fingerprint, { token, basis, joinedAt: this.#lastJoinedAt });
      if (this.#waiting.size === 1 || this.#waiting.size >= MAX_BATCH) this.#schedule();
    }
    return this.status();
  }

  /** What a job whose token waits here is told: come back once it should have been sent and be ready to confirm. */
  status(now = Date.now()): Outcome {
    const summary = `${this.size} token(s) gathered for POST /credentials/revoke`;
    if (this.#hold === 'budget' && this.#holdUntil > now) {
      const retryAfterMs = this.#holdUntil - now + this.o.confirmAfterMs;
      return { status: 'pending', reason: 'awaiting_budget', held: true, retryAfterMs, summary: `${summary}; revoke budget exhausted for ${Math.ceil((this.#holdUntil - now) / 1000)} s` };
    }
    return { status: 'pending', reason: 'awaiting_batch', retryAfterMs: Math.max(100, this.#dueAt() - now + this.o.confirmAfterMs), summary };
  }

  /** Stops the flusher after one last send of what was gathered (if the budget allows); forgets the rest. */
  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#timer);
    await this.#sending;
    if (this.#waiting.size > 0 && this.#holdUntil <= Date.now()) await this.#flush();
    // Their jobs come back and join another replica's batch: no plaintext outlives the process.
    this.#waiting.clear();
  }

  #dueAt(): number {
    const first = this.#waiting.values().next().value;
    const wait = this.o.batchWaitMs;
    const gathered = first === undefined || this.#waiting.size >= MAX_BATCH ? Date.now() : Math.min(this.#lastJoinedAt + wait, first.joinedAt + MAX_WAIT_PERIODS * wait);
    return Math.max(gathered, this.#holdUntil);
  }

  #schedule(): void {
    clearTimeout(this.#timer);
    if (this.#closed || this.#sending || this.#waiting.size === 0) return;
    this.#timer = setTimeout(() => {
      // Tokens that joined since the timer was set push the quiet period on: look again then.
      if (this.#dueAt() > Date.now() + 5) this.#schedule();
      else void this.#flush();
    }, Math.max(0, this.#dueAt() - Date.now()));
    this.#timer.unref();
  }

  #flush(): Promise<void> {
    this.#sending ??= this.#sendOne()
      .catch((err: Error) => this.#backoff(`error: ${err.message.slice(0, 120)}`))
      .finally(() => {
        this.#sending = undefined;
        this.#schedule();
      });
    return this.#sending;
  }

  async #sendOne(): Promise<void> {
    if (this.o.bearer !== undefined && (await this.o.breakers.isOpen(TOKEN_BREAKER))) return this.#holdFor('credential', Math.max(1000, this.o.batchWaitMs));
    const chunk = await this.#take();
    if (chunk.length === 0) return;
    const budget = await this.o.budget.take(BUDGET_KEY, this.o.requestsPerHour, HOUR_MS).catch((err: unknown) => {
      this.#putBack(chunk);
      throw err;
    });
    if (!budget.ok) {
      this.#putBack(chunk);
      this.o.logger.info({ provider: 'github', queued: this.#waiting.size, retryAfterMs: budget.retryAfterMs }, 'github: revoke budget exhausted; batch held until it frees');
      return this.#holdFor('budget', budget.retryAfterMs);
    }
    for (const [fp, e] of chunk) this.#inFlight.set(fp, e);
    const started = Date.now();
    const verdict = classify(await call(this.o.client, 'POST', 'credentials/revoke', this.o.bearer, { credentials: chunk.map(([, e]) => e.token) }).catch((err: Error) => err));
    const log = { provider: 'github', count: chunk.length, status: verdict.reason, summary: verdict.summary, durationMs: Date.now() - started };
    if (verdict.verdict === 'ok') return this.#accepted(chunk, log);
    for (const [fp] of chunk) this.#inFlight.delete(fp);
    this.#putBack(chunk);
    await this.#refused(verdict, log);
  }

  /** The oldest waiting tokens, up to MAX_BATCH, less those another replica has submitted since they joined. */
  async #take(): Promise<[string, Entry][]> {
    const candidates = [...this.#waiting].slice(0, MAX_BATCH);
    for (const [fp] of candidates) this.#waiting.delete(fp);
    const known = await Promise.all(candidates.map(([fp]) => this.o.submissions.get(fp))).catch((err: unknown) => {
      this.#putBack(candidates);
      throw err;
    });
    const chunk = candidates.filter(([, e], i) => (known[i]?.submissions ?? 0) <= e.basis);
    if (chunk.length < candidates.length) this.o.logger.debug({ provider: 'github', skipped: candidates.length - chunk.length }, 'github: tokens already submitted by another replica; not sent again');
    return chunk;
  }

  async #accepted(chunk: [string, Entry][], log: object): Promise<void> {
    const at = Date.now();
    const recorded = await Promise.allSettled(chunk.map(([fp, e]) => this.o.submissions.record(fp, e.basis, at)));
    for (const [fp] of chunk) this.#inFlight.delete(fp);
    const lost = recorded.filter((r) => r.status === 'rejected').length;
    this.#failures = 0;
    this.#hold = undefined;
    this.#holdUntil = 0;
    // A submission not recorded only means its job finds no record and submits it again: harmless.
    this.o.logger.info({ ...log, queued: this.#waiting.size, ...(lost > 0 ? { unrecorded: lost } : {}) }, 'github: tokens submitted to POST /credentials/revoke (202); confirming each later');
  }

  async #refused(v: Classified, log: object): Promise<void> {
    if (v.verdict === 'rate_limited') {
      const ms = v.retryAfterMs ?? 60_000;
      this.o.logger.warn({ ...log, retryAfterMs: ms }, 'github: POST /credentials/revoke rate limited; every replica waits until the reset');
      return this.#block(ms);
    }
    if (v.verdict === 'validation_failed') {
      await this.#block(SPAMMED_PAUSE_MS);
      this.o.logger.error(
        { ...log, pausedMs: SPAMMED_PAUSE_MS },
        'github: POST /credentials/revoke answered 422 (validation failed, or the endpoint has been spammed). The tokens are kept and sent again after the pause. Every token is checked for its format before sending, so a repeat points at GitHub throttling this endpoint (another client on our egress IP?) or at a format GitHub no longer accepts: check githubstatus.com and the formats in providers/github/kinds.ts.',
      );
      return;
    }
    if (v.verdict === 'unauthorized' || v.verdict === 'forbidden') return this.#credentialRefused(v, log);
    this.o.logger.warn(log, 'github: POST /credentials/revoke failed; tokens kept, retrying after a backoff');
    this.#backoff(v.summary);
  }

  async #credentialRefused(v: Classified, log: object): Promise<void> {
    if (this.o.bearer !== undefined) {
      await this.o.breakers.open(TOKEN_BREAKER, v.reason, 'github: GitHub Enterprise refuses GITHUB_TOKEN on POST /credentials/revoke: breaker OPEN. Tokens to revoke are held (never failed) until it works again; fix or replace GITHUB_TOKEN (it needs to be allowed to call /credentials/revoke).');
      return this.#holdFor('credential', Math.max(1000, this.o.batchWaitMs));
    }
    const message =
      v.verdict === 'forbidden'
        ? 'github: POST /credentials/revoke answered 403 without rate-limit headers: on api.github.com this means the call carried a credential, which it must not. This is a bug in the service (or a proxy adding an Authorization header); tokens kept, retrying after a backoff.'
        : 'github: POST /credentials/revoke answered 401: this host (GitHub Enterprise Server?) requires authentication. Set GITHUB_TOKEN; tokens kept, retrying after a backoff.';
    this.o.logger.error(log, message);
    this.#backoff(v.summary);
  }

  /** Held here at once, and for every replica through the budget (should Redis fail, this process still waits). */
  async #block(ms: number): Promise<void> {
    this.#holdFor('budget', ms);
    await this.o.budget.block(BUDGET_KEY, this.#holdUntil).catch((err: Error) => {
      this.o.logger.warn({ provider: 'github', err: err.message.slice(0, 200) }, 'github: could not share the revoke pause with other replicas; this one waits anyway');
    });
  }

  #backoff(summary: string): void {
    this.#failures += 1;
    const ms = Math.min(MAX_BACKOFF_MS, this.o.batchWaitMs * 2 ** (this.#failures - 1));
    this.o.logger.debug({ provider: 'github', failures: this.#failures, backoffMs: ms, summary }, 'github: revoke batch backing off');
    this.#holdFor('backoff', ms);
  }

  #holdFor(hold: Hold, ms: number): void {
    this.#hold = hold;
    this.#holdUntil = Date.now() + ms;
  }

  /** Back at the head of the line, in their original order. */
  #putBack(entries: [string, Entry][]): void {
    this.#waiting = new Map([...entries, ...this.#waiting]);
  }
}
