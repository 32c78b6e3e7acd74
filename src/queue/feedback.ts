// Feedback to the finding's vulnerability (issue 14): once a token is settled, a note on each vulnerability that named
// it, and optionally resolving it. Its own durable queue, retried with backoff, like notifications: the vendor being
// down, slow or refusing never delays, fails or holds a revocation. Job data names the token by fingerprint only.
import { UnrecoverableError, type Job, type JobsOptions, type Queue, type Worker } from 'bullmq';
import type { Cluster, Redis } from 'ioredis';
import type { FeedbackResult, VulnerabilityFeedback } from '../../providers/contract.js';
import { shortFingerprint } from '../domain/fingerprint.js';
import { mergeRefs, type VulnerabilityRef } from '../domain/vulnerability.js';
import type { Logger } from '../logger.js';
import { feedbackText, type FeedbackSubject } from './feedback-text.js';
import { followUpWorker, type FollowUpWorkerDeps } from './follow-up.js';
import { KEYS } from '../keys.js';
import { followUpJobOptions } from './jobs.js';
import type { JournalListener, Settled } from './journal.js';
import type { OutcomeRecord } from './outcomes.js';
import type { RecordStore } from './records.js';

export const FEEDBACK_QUEUE = 'feedback';
export const FEEDBACK_JOB_NAME = 'feedback';

export type FeedbackAction = 'note' | 'resolve';
export type FeedbackCount = (action: FeedbackAction, result: FeedbackResult['result']) => void;

export interface FeedbackJobData {
  readonly v: 1;
  readonly fp: string;
  readonly status: string;
  readonly vulnerability: VulnerabilityRef;
  /** The note (and resolve comment): no token, a fingerprint prefix at most. */
  readonly body: string;
  /** A confirmed revocation: the vulnerability may be resolved too (when `resolve` is configured). */
  readonly resolvable: boolean;
}

// With the default RETRY_BASE_DELAY_MS of 5 s, the last of 12 attempts comes some 5 hours on.
export const FEEDBACK_JOB_OPTIONS: JobsOptions = followUpJobOptions(12, 5000);

/** Revocations by us; resolved only when nothing says it is unconfirmed (a vendor needing proof sets `confirmed`). */
const CONFIRMED: ReadonlySet<string> = new Set(['revoked', 'reset', 'deleted']);
export const isResolvable = (s: { readonly status: string; readonly confirmed?: boolean | undefined }): boolean => CONFIRMED.has(s.status) && s.confirmed !== false;

/** What was done for one token, vulnerability and result: remembered, so a resend after the job is gone does nothing. */
const markerKey = KEYS.feedbackDone;
/** One job per token, vulnerability and result: a repeat (a resend, a job run twice) is absorbed by the id. */
const jobId = (fp: string, vulnerability: number, status: string): string => `${fp}-${vulnerability}-${status}`;

/** Queues feedback for settled tokens; used by the journal listener, the fan-out (settled tokens sent again) and `resolve`. */
export class FeedbackRequests {
  constructor(
    readonly queue: Queue<FeedbackJobData>,
    private readonly redis: Redis | Cluster,
    private readonly actions: readonly FeedbackAction[],
    private readonly logger: Logger,
  ) {}

  /** One job per vulnerability not yet told of this result. Never throws: feedback is never in a revocation's way. */
  request(subject: FeedbackSubject, vulnerabilities: readonly VulnerabilityRef[]): Promise<void> {
    return this.requestMany([{ subject, vulnerabilities }]);
  }

  /** The same for many tokens, in one pipeline and one add (a whole-batch resend of settled tokens). */
  async requestMany(items: ReadonlyArray<{ readonly subject: FeedbackSubject; readonly vulnerabilities: readonly VulnerabilityRef[] }>): Promise<void> {
    const pairs = items.flatMap(({ subject, vulnerabilities }) => vulnerabilities.map((vulnerability) => ({ subject, vulnerability })));
    if (pairs.length === 0) return;
    try {
      const done = await this.redis.pipeline(pairs.map((p) => ['hgetall', markerKey(p.subject.fingerprint, p.vulnerability.id, p.subject.status)])).exec();
      const bodies = new Map<FeedbackSubject, string>();
      const jobs = pairs
        .map((p, i) => ({ ...p, resolvable: this.actions.includes('resolve') && isResolvable(p.subject), marker: (done?.[i]?.[1] ?? {}) as Record<string, string> }))
        .filter((p) => p.marker['note'] === undefined || (p.resolvable && p.marker['resolve'] === undefined))
        .map(({ subject, vulnerability, resolvable }) => {
          const body = bodies.get(subject) ?? feedbackText(subject);
          bodies.set(subject, body);
          return { name: FEEDBACK_JOB_NAME, data: { v: 1 as const, fp: subject.fingerprint, status: subject.status, vulnerability, body, resolvable }, opts: { jobId: jobId(subject.fingerprint, vulnerability.id, subject.status) } };
        });
      if (jobs.length > 0) await this.queue.addBulk(jobs);
    } catch (err) {
      this.logger.warn({ tokens: items.length, err: (err as Error).message }, 'vulnerability feedback could not be queued');
    }
  }

  /** Tokens settled earlier were sent again (maybe by a new vulnerability): feedback from their outcome records. */
  fromOutcomes(items: ReadonlyArray<{ readonly fp: string; readonly outcome: OutcomeRecord; readonly vulnerabilities: readonly VulnerabilityRef[] }>): Promise<void> {
    return this.requestMany(
      items.map(({ fp, outcome, vulnerabilities }) => ({
        subject: { fingerprint: fp, type: outcome.type, status: outcome.status, strategy: outcome.via, instance: outcome.instance, identified: outcome.identified, confirmed: outcome.confirmed, at: outcome.at },
        vulnerabilities,
      })),
    );
  }
}

/** The journal listener: every terminal result, for each vulnerability the token's job or record names. */
export function feedbackListener(requests: FeedbackRequests, records: RecordStore): JournalListener {
  return {
    async settled(result: Settled): Promise<void> {
      const recorded = result.recordedVulnerabilities ?? (await records.vulnerabilities(result.fingerprint).catch(() => []));
      const vulnerabilities = mergeRefs(result.vulnerabilities, recorded);
      await requests.request({ ...result, at: new Date().toISOString() }, vulnerabilities);
    },
  };
}

export interface FeedbackWorkerDeps extends FollowUpWorkerDeps {
  readonly port: VulnerabilityFeedback;
  readonly logger: Logger;
  /** How long a marker is kept: the outcome retention (a resend within it makes no second note). */
  readonly retentionSeconds: number;
  readonly count?: FeedbackCount | undefined;
}

export function createFeedbackWorker(deps: FeedbackWorkerDeps): Worker<FeedbackJobData> {
  return followUpWorker<FeedbackJobData>(FEEDBACK_QUEUE, (job) => deliver(job, deps), deps, {
    fields: (job) => ({ fp: job ? shortFingerprint(job.data.fp) : undefined, vulnerability: job?.data.vulnerability.id }),
    final: 'vulnerability feedback failed for good; kept in the feedback failed set',
    retry: 'vulnerability feedback failed; will retry',
  });
}

/** The note first, then (for a confirmed revocation, when configured) the resolve; each done once, remembered. */
async function deliver(job: Job<FeedbackJobData>, deps: FeedbackWorkerDeps): Promise<string> {
  const { fp, vulnerability, status, body } = job.data;
  const marker = markerKey(fp, vulnerability.id, status);
  const done = await deps.connection.hgetall(marker);
  const steps: FeedbackAction[] = ['note', ...(job.data.resolvable && deps.port.actions.includes('resolve') ? (['resolve'] as const) : [])];
  for (const action of steps) {
    if (done[action] !== undefined) continue;
    const result = action === 'note' ? await deps.port.note(vulnerability, body) : await deps.port.resolve(vulnerability, body);
    deps.count?.(action, result.result);
    const log = { fp: shortFingerprint(fp), vulnerability: vulnerability.id, action, instance: deps.port.instance };
    if (result.result === 'unavailable') {
      deps.logger.info({ ...log, reason: result.reason }, 'vulnerability feedback unavailable on this instance; skipped');
      return `${action}:unavailable`;
    }
    if (result.result === 'failed') {
      const message = `${action}: ${result.reason}`;
      throw result.final ? new UnrecoverableError(message) : new Error(message);
    }
    await deps.connection.multi().hset(marker, action, new Date().toISOString()).expire(marker, deps.retentionSeconds).exec();
    deps.logger.info(log, action === 'note' ? 'note written on the vulnerability' : 'vulnerability resolved');
  }
  return 'ok';
}
