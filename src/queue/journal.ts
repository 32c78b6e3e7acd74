// Everything that follows an attempt's result besides queue control: the token's record, the audit trail, the index of
// unsettled tokens, and listeners (metrics, notifications). One place, so that the worker reads as control flow.
import type { Identified } from '../domain/outcome.js';
import type { VulnerabilityRef } from '../domain/vulnerability.js';
import type { ChainableCommander } from 'ioredis';
import { KEYS } from '../keys.js';
import type { AuditLog } from './audit.js';
import type { OutcomeRecord } from './outcomes.js';
import { execAll, parseRefs, type RecordStore } from './records.js';
import type { UnsettledTokens } from './unsettled.js';

/** A terminal success or failure, as listeners see it: never the token, never its ciphertext. */
export interface Settled {
  readonly fingerprint: string;
  readonly type: string;
  /** `revoked`, `reset`, `deleted`, `already_gone`, `not_found`, `submitted` (unconfirmed), `failed`, or `needs_manual`. */
  readonly status: string;
  readonly instance?: string | undefined;
  readonly strategy?: string | undefined;
  readonly identified?: Identified | undefined;
  /** The token itself was seen refused after the call; false: submitted, nothing can confirm it. */
  readonly confirmed?: boolean | undefined;
  readonly reason?: string | undefined;
  readonly location?: string | undefined;
  /** From acceptance to this result. */
  readonly elapsedMs: number;
  /** Said in the record beside the result, e.g. that an earlier answer was lost. */
  readonly note?: string | undefined;
  /** The provider that handled it, and its kind of token. */
  readonly provider?: string | undefined;
  readonly kind?: string | undefined;
  /** The vulnerabilities (ids only) the token's job names; the record may know more. */
  readonly vulnerabilities?: readonly VulnerabilityRef[] | undefined;
  /** Every vulnerability the record names, read in the settlement's own transaction (listeners need no read of their own). */
  readonly recordedVulnerabilities?: readonly VulnerabilityRef[] | undefined;
}

export interface JournalListener {
  settled(result: Settled): void | Promise<void>;
}

export class Journal {
  readonly #listeners: JournalListener[] = [];

  constructor(
    private readonly records: RecordStore,
    private readonly audit: AuditLog,
    private readonly unsettled: UnsettledTokens,
  ) {}

  listen(listener: JournalListener): void {
    this.#listeners.push(listener);
  }

  /**
   * The attempt begins, unless the token is settled already: then nothing is written, and its outcome is returned.
   * `attempt` counts within the job's current run; the record's `attempts` also counts the runs before a replay.
   */
  async attempted(fp: string, attempt: number): Promise<OutcomeRecord | undefined> {
    const outcome = await this.records.attemptedUnlessSettled(fp, attempt, KEYS.outcome(fp));
    return outcome === undefined ? undefined : (JSON.parse(outcome) as OutcomeRecord);
  }

  /** The index's reason and the record's event, in one round trip. */
  async waiting(fp: string, event: 'held' | 'pending' | 'rate_limited' | 'retrying', reason: string, summary: string): Promise<void> {
    const multi = this.records.multi();
    this.unsettled.queueWaiting(multi, fp, `${event}:${reason}`);
    // Waiting for a batch or a confirmation is no error: the record says what it waits for, not a last error.
    const fields = event === 'pending' ? { waitingFor: reason } : { lastError: reason, lastSummary: summary };
    this.records.queueChange(multi, fp, { event, detail: `${reason}: ${summary}`, fields });
    await execAll(multi); // as the index's HSET did alone: a refused write fails the attempt
  }

  /**
   * The record, the index of unsettled tokens, the audit line and whatever `also` queues (the worker: the outcome) are
   * written in one MULTI, one round trip: all or nothing. Then `also.committed` (the worker's outcome log line), then
   * the listeners.
   */
  async settled(result: Settled, attempts: number, also?: { readonly write: (multi: ChainableCommander) => void; readonly committed: () => void }): Promise<void> {
    // Both stay in the failed set for on-call: a failure to replay, or a type nobody can revoke to settle by hand.
    const failed = result.status === 'failed' || result.status === 'needs_manual';
    const [lastError, lastSummary] = failed ? splitReason(result.reason ?? '') : [undefined, undefined];
    const multi = this.records.multi();
    also?.write(multi);
    this.records.queueChange(multi, result.fingerprint, {
      state: result.status as 'failed',
      event: result.status as 'failed',
      ...(failed || result.instance ? { detail: failed ? result.reason : `${result.strategy ?? ''}@${result.instance ?? ''}${result.note ? ` (${result.note})` : ''}` } : {}),
      attempt: attempts,
      fields: {
        instance: result.instance,
        strategy: result.strategy,
        identified: result.identified ? JSON.stringify(result.identified) : undefined,
        confirmed: result.confirmed === undefined ? undefined : String(result.confirmed),
        ...(failed ? { lastError, lastSummary } : {}),
      },
    });
    this.unsettled.queueSettled(multi, result.fingerprint);
    const entry = { actor: 'service', action: `token_${result.status}`, fingerprint: result.fingerprint, detail: failed ? result.reason : `${result.strategy ?? ''}@${result.instance ?? ''}` };
    this.audit.queue(multi, entry);
    this.records.queueVulnerabilities(multi, result.fingerprint); // last: its reply is the last one
    const replies = await execAll(multi);
    also?.committed();
    this.audit.logged(entry);
    const settled: Settled = { ...result, recordedVulnerabilities: parseRefs(replies.at(-1)) };
    for (const l of this.#listeners) await Promise.resolve(l.settled(settled)).catch(() => undefined); // a listener never fails a revocation
  }
}

/**
 * A failure reason is `class: summary` (the worker builds it so for the failed set). The record keeps the two apart,
 * as `waiting` does: storing the whole reason as the summary printed the class twice (`http_400: http_400: ...`).
 */
function splitReason(reason: string): [string, string] {
  const at = reason.indexOf(': ');
  return at < 0 ? [reason, ''] : [reason.slice(0, at), reason.slice(at + 2)];
}
