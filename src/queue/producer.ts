// The HTTP edge's side of the queue: accepted requests become revocation jobs, or a sealed intake job when large,
// acknowledged by Redis before we answer.
import type { Queue } from 'bullmq';
import { seal, type EncryptionKey } from '../domain/crypto.js';
import { fingerprint, shortFingerprint } from '../domain/fingerprint.js';
import { batchId, type AcceptedToken } from '../domain/revocation.js';
import { mergeRefs } from '../domain/vulnerability.js';
import { StoreUnavailableError } from '../errors.js';
import type { Logger } from '../logger.js';
import { admit, type Admission } from './admission.js';
import { INTAKE_JOB_NAME, type IntakeItem, type IntakeJobData } from './jobs.js';
import type { ReplicaGate } from './redis.js';

/** Longest a request waits for Redis before answering 503: GitLab's own read timeout is 20 s. */
const DEADLINE_MS = 5000;
/** A group stops taking further requests at this many tokens (a single larger request is still one job). */
const GROUP_MAX_TOKENS = 1000;
/**
 * A group of at most this many tokens becomes their revocation jobs before the `204` (GitLab's usual request holds
 * one token); a larger one becomes one intake job, sealed once, which a worker fans out. Small, because admission
 * costs some 0.4 ms per token and an intake job's write little more than one: under a flood of requests the groups
 * grow past it and take the cheaper path (accept bench, 50 connections of single-token requests: 2,200 tokens/s
 * with 50 here, 6,700 with 4), while a lone request, the usual case, skips the second queue hop.
 */
export const DIRECT_MAX_TOKENS = 4;
/**
 * After a group of several requests held more than DIRECT_MAX_TOKENS (a flood: requests arrive faster than they are
 * written), every group is an intake job for this long. Without it, the small groups between a flood's large ones
 * were admitted one token at a time and held every request behind them: the accept bench (50 connections,
 * single-token requests) measured 0.37–0.59x the bare server's tokens/s in three runs; 0.47–0.68x with it. Short,
 * because a pause of a few tens of ms (a GC) also makes such a group: 1 s of intake jobs after one left the
 * time-to-revoke bench's 200/s run at p99 62–67 ms, 250 ms at 21–32.
 */
const FLOOD_MS = 250;

interface Waiter {
  readonly tokens: readonly AcceptedToken[];
  readonly acceptedAt: number;
  readonly resolve: () => void;
  readonly reject: (err: StoreUnavailableError) => void;
}

/**
 * Group commit. While one group is being written, the requests that arrive meanwhile wait and are then written
 * together as the next: under light load nothing waits, under heavy load the round trips are shared. Each request
 * still resolves only once Redis has acknowledged the jobs holding its tokens.
 *
 * With `direct`, a group of at most DIRECT_MAX_TOKENS tokens is admitted at once (admission.ts: records, one
 * revocation job per token, the unsettled index; three round trips), so a worker can revoke the token as soon as we
 * answer, with no second queue hop; not during a flood (FLOOD_MS). Otherwise the group is one intake job (one
 * BullMQ add, one seal) that a worker fans out the same way. An intake job's id is the digest of its tokens, so a whole-batch
 * resend is absorbed while the first is queued; either way admission is idempotent per token.
 *
 * With a `gate`, "acknowledged" means replicated: after the add, and within the same deadline, the group waits for
 * the required replicas (one WAIT per group: groups are written one at a time, on the gate's own connection, which
 * the queue and the admission's stores must use). A master that dies after the writes but before a replica has them
 * then takes along only jobs that were answered 503, which GitLab resends.
 */
export class IntakeProducer {
  #waiting: Waiter[] = [];
  #writing = false;
  /** Until when groups are intake jobs whatever their size (see FLOOD_MS). */
  #floodUntil = 0;

  constructor(
    private readonly queue: Queue<IntakeJobData>,
    private readonly key: () => EncryptionKey,
    private readonly gate?: ReplicaGate,
    private readonly direct?: { readonly admission: Admission; readonly logger: Logger },
  ) {}

  /** Resolves only once Redis has acknowledged the job holding these tokens; otherwise rejects with StoreUnavailableError. */
  async enqueue(tokens: readonly AcceptedToken[]): Promise<{ queued: number }> {
    if (tokens.length === 0) return { queued: 0 };
    await new Promise<void>((resolve, reject) => {
      this.#waiting.push({ tokens, acceptedAt: Date.now(), resolve, reject });
      this.#next();
    });
    return { queued: tokens.length };
  }

  #next(): void {
    if (this.#writing || this.#waiting.length === 0) return;
    const group = this.#takeGroup();
    this.#writing = true;
    this.#write(group).then(
      () => {
        for (const w of group) w.resolve();
      },
      (err: unknown) => {
        // Redis is unreachable or too slow: the requests still waiting would only wait for the same answer.
        const failed = new StoreUnavailableError(err);
        for (const w of [...group, ...this.#waiting.splice(0)]) w.reject(failed);
      },
    ).finally(() => {
      this.#writing = false;
      this.#next();
    });
  }

  #takeGroup(): Waiter[] {
    let size = 0;
    let n = 0;
    while (n < this.#waiting.length) {
      const count = this.#waiting[n]?.tokens.length ?? 0;
      if (n > 0 && size + count > GROUP_MAX_TOKENS) break;
      size += count;
      n++;
    }
    return this.#waiting.splice(0, n);
  }

  async #write(group: readonly Waiter[]): Promise<void> {
    // A token sent in two concurrent requests is one item: one job, one revocation.
    const unique = new Map<string, AcceptedToken>();
    for (const w of group) {
      for (const t of w.tokens) {
        const known = unique.get(t.token);
        // Each request's vulnerabilities are kept: every one of them gets its note.
        if (!known) unique.set(t.token, t);
        else if (t.vulnerabilities) unique.set(t.token, { ...known, vulnerabilities: mergeRefs(known.vulnerabilities, t.vulnerabilities) });
      }
    }
    const tokens = [...unique.values()].map((t): IntakeItem => ({
      type: t.type,
      token: t.token,
      ...(t.location === undefined ? {} : { location: t.location }),
      ...(t.vulnerabilities?.length ? { vulnerabilities: t.vulnerabilities } : {}),
    }));
    const acceptedAt = Math.min(...group.map((w) => w.acceptedAt));
    const started = Date.now();
    if (group.length > 1 && tokens.length > DIRECT_MAX_TOKENS) this.#floodUntil = started + FLOOD_MS;
    const epoch = this.gate?.epoch;
    await withDeadline(this.#store(tokens, acceptedAt, started >= this.#floodUntil), DEADLINE_MS);
    await this.gate?.confirm(DEADLINE_MS - (Date.now() - started), epoch);
  }

  async #store(items: readonly IntakeItem[], acceptedAt: number, calm: boolean): Promise<void> {
    let batch = items;
    if (this.direct && calm && items.length <= DIRECT_MAX_TOKENS) {
      const tokens = items.map((i) => ({ ...i, fp: fingerprint(i.token) }));
      const known = await admit(tokens, acceptedAt, this.direct.admission, this.key());
      // The fan-out's line, for an on-call engineer asking whether a resend was recognised (known) or queued.
      this.direct.logger.info({ batch: shortFingerprint(batchId(items)), tokens: tokens.length, queued: tokens.length - known.size, known: known.size, fanOutMs: Date.now() - acceptedAt }, 'batch fanned out');
      // A settled token sent again by a vulnerability: the fan-out gives that vulnerability its note (feedback.ts).
      batch = items.filter((item, i) => item.vulnerabilities?.length && known.has(tokens[i]?.fp ?? ''));
      if (batch.length === 0) return;
    }
    const id = batchId(batch);
    const data: IntakeJobData = { v: 1, sealed: seal(JSON.stringify(batch), this.key(), id), count: batch.length, acceptedAt };
    await this.queue.add(INTAKE_JOB_NAME, data, { jobId: id });
  }
}

function withDeadline<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`Redis did not acknowledge within ${ms} ms`)), ms);
  });
  return Promise.race([work, deadline]).finally(() => clearTimeout(timer));
}
