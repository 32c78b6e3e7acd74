// Consumes revocation jobs: opens the sealed token, asks its provider, and turns the outcome into queue control flow.
import { DelayedError, UnrecoverableError, Worker, type Job } from 'bullmq';
import type { Cluster, Redis } from 'ioredis';
import type { ProviderRegistry } from '../../providers/registry.js';
import { open, type EncryptionKey } from '../domain/crypto.js';
import { shortFingerprint } from '../domain/fingerprint.js';
import { isGone, type Gone, type Outcome } from '../domain/outcome.js';
import type { RevocationMetrics } from '../domain/ports.js';
import type { Logger } from '../logger.js';
import { KEY_PREFIX, QUEUE_NAME, backoffDelay, backoffSettings, type RevocationJobData, type RevocationJobResult } from './jobs.js';
import type { FeedbackRequests } from './feedback.js';
import type { Journal, Settled } from './journal.js';
import type { OutcomeRecord, OutcomeStore } from './outcomes.js';

export interface WorkerDeps {
  readonly connection: Redis | Cluster;
  readonly registry: ProviderRegistry;
  readonly outcomes: OutcomeStore;
  readonly journal: Journal;
  readonly keys: () => readonly EncryptionKey[];
  readonly logger: Logger;
  readonly concurrency: number;
  readonly lockMs: number;
  readonly retry: { readonly horizonMs: number; readonly baseDelayMs: number; readonly maxDelayMs: number };
  /** While our credential is refused, a held token looks again this often; it never fails for that reason. */
  readonly holdMs: number;
  /** Times each provider call (trapi_provider_call_duration_seconds). */
  readonly metrics?: RevocationMetrics | undefined;
  /** Vulnerability feedback, when on. */
  readonly feedback?: FeedbackRequests | undefined;
}

export function createRevocationWorker(deps: WorkerDeps): Worker<RevocationJobData, RevocationJobResult> {
  const { retry } = deps;
  return new Worker<RevocationJobData, RevocationJobResult>(QUEUE_NAME, (job, token) => processJob(job, token, deps), {
    connection: deps.connection,
    prefix: KEY_PREFIX,
    concurrency: deps.concurrency,
    lockDuration: deps.lockMs,
    stalledInterval: deps.lockMs,
    // A job whose worker died is picked up again, however often that happens: it must never fail for it.
    maxStalledCount: 1_000,
    settings: backoffSettings(retry.baseDelayMs, retry.maxDelayMs),
  });
}

export async function processJob(job: Job<RevocationJobData>, lockToken: string | undefined, deps: WorkerDeps): Promise<RevocationJobResult> {
  const { fp, type } = job.data;
  const log = deps.logger.child({ fp: shortFingerprint(fp), type, attempt: job.attemptsMade + 1 });
  // A job made for a token settled meanwhile (a resend racing its settlement): no call; its vulnerabilities still get
  // their notes.
  const handled = async (prior: OutcomeRecord): Promise<RevocationJobResult> => {
    log.info({ status: prior.status }, 'token already handled; no call made');
    if (job.data.vulnerabilities?.length) await deps.feedback?.fromOutcomes([{ fp, outcome: prior, vulnerabilities: job.data.vulnerabilities }]);
    return { status: prior.status, via: 'record' };
  };
  const route = deps.registry.forType(type);
  let token: string | undefined;
  let unopened = '';
  try {
    token = open(job.data.sealed, deps.keys(), fp);
  } catch (err) {
    unopened = (err as Error).message;
  }
  if (!route || token === undefined) {
    // Only a token not yet settled fails.
    const prior = await deps.outcomes.get(fp);
    if (prior) return handled(prior);
    if (!route) throw await fail(job, deps, log, 'unsupported_type', 'no enabled provider handles this type');
    throw await fail(job, deps, log, 'decryption_failed', unopened);
  }
  // The settled check and the record's `attempted`, in one round trip.
  const prior = await deps.journal.attempted(fp, job.attemptsMade + 1);
  if (prior) return handled(prior);
  const started = Date.now();
  const outcome = withInstance(await route.provider.revoke({ token, kind: route.kind.kind, type, fingerprint: fp }), route.provider.name);
  deps.metrics?.providerCall(route.provider.name, (Date.now() - started) / 1000);
  return settle(outcome, job, lockToken, deps, log.child({ provider: route.provider.name, ms: Date.now() - started }));
}

/** Every result names where it was tried: the provider's own instance name, or else the provider's name. */
function withInstance(outcome: Outcome, provider: string): Outcome {
  if (outcome.status === 'transient' || outcome.status === 'permanent' || outcome.status === 'submitted' || outcome.status === 'needs_manual') return { ...outcome, instance: outcome.instance ?? provider };
  if (isGone(outcome) && outcome.via !== 'all_instances') return { ...outcome, instance: outcome.instance ?? provider };
  return outcome;
}

async function settle(outcome: Outcome, job: Job<RevocationJobData>, lockToken: string | undefined, deps: WorkerDeps, log: Logger): Promise<RevocationJobResult> {
  const { retry } = deps;
  if (isGone(outcome)) {
    const { status, via, instance, identified } = afterLostAnswer(outcome, job.data);
    const lostAnswer = status !== outcome.status;
    const note = lostAnswer ? `answer lost, then ${outcome.status}` : outcome.confirmed ? 'confirmed: the token is refused' : undefined;
    return done(job, deps, log, { status, via, instance, identified, confirmed: outcome.confirmed, note }, lostAnswer ? { lostAnswer: true, found: outcome.status } : {});
  }
  switch (outcome.status) {
    case 'submitted':
      return done(job, deps, log, { status: 'submitted', via: outcome.via, instance: outcome.instance, confirmed: false, note: 'submitted, unconfirmed: nothing can prove it dead' }, {});
    case 'pending': {
      const wait = Math.max(50, outcome.retryAfterMs);
      // Debug: a batch of 10,000 tokens waits several times each; the provider logs one line per batch and per budget wait.
      log.debug({ reason: outcome.reason, summary: outcome.summary, waitMs: wait, held: outcome.held === true }, outcome.held ? 'held for the vendor\'s budget; asked again later without using an attempt' : 'pending at the provider; asked again later without using an attempt');
      await deps.journal.waiting(job.data.fp, outcome.held ? 'held' : 'pending', outcome.reason, outcome.summary);
      return postpone(job, lockToken, wait);
    }
    case 'needs_manual':
      throw await fail(job, deps, log, outcome.reason, outcome.summary, outcome.instance, 'needs_manual');
    case 'rate_limited': {
      const wait = Math.min(retry.maxDelayMs, outcome.retryAfterMs ?? backoffDelay(job.attemptsMade + 1, retry.baseDelayMs, retry.maxDelayMs));
      log.warn({ summary: outcome.summary, waitMs: wait }, 'rate limited by the provider; waiting without using an attempt');
      await deps.journal.waiting(job.data.fp, 'rate_limited', 'http_429', outcome.summary);
      return postpone(job, lockToken, wait + Math.round(Math.random() * 250));
    }
    case 'credential_rejected':
      log.warn({ reason: outcome.reason, summary: outcome.summary }, 'our credential is refused; token held until it works again');
      await deps.journal.waiting(job.data.fp, 'held', outcome.reason, outcome.summary);
      return postpone(job, lockToken, backoffDelay(2, deps.holdMs, deps.holdMs));
    case 'transient':
      if (Date.now() - job.data.acceptedAt >= retry.horizonMs) throw await fail(job, deps, log, 'retry_horizon_exceeded', `${outcome.reason}: ${outcome.summary}`, outcome.instance);
      if (outcome.retryAfterMs !== undefined) {
        // Nothing can act for now, and the provider knows until when: held like a token behind a breaker, within the horizon.
        log.warn({ reason: outcome.reason, summary: outcome.summary, waitMs: outcome.retryAfterMs }, 'no strategy can act for now; token held until it is looked at again');
        await deps.journal.waiting(job.data.fp, 'held', outcome.reason, outcome.summary);
        return postpone(job, lockToken, Math.min(outcome.retryAfterMs, Math.max(0, job.data.acceptedAt + retry.horizonMs - Date.now())) + Math.round(Math.random() * 250));
      }
      // Kept with the job, so that the attempt that finds the token gone knows who most likely revoked it.
      if (outcome.lost) await job.updateData({ ...job.data, lost: outcome.lost });
      log.warn({ reason: outcome.reason, summary: outcome.summary, ...(outcome.lost ? { answerLost: outcome.lost.via } : {}) }, 'transient failure; will retry with backoff');
      await deps.journal.waiting(job.data.fp, 'retrying', outcome.reason, outcome.summary);
      throw new Error(`${outcome.reason}: ${outcome.summary}`);
    case 'permanent':
      throw await fail(job, deps, log, outcome.reason, outcome.summary, outcome.instance);
  }
}

/** What the worker knows of a terminal success: the journal's Settled fields it sets, by the strategy that did it (`via`). */
type Done = Pick<Settled, 'status' | 'instance' | 'identified' | 'confirmed'> & { readonly via: string; readonly note?: string | undefined };

/** A terminal success (or an unconfirmed submission): remembered, logged once and journaled; the job and its ciphertext go. */
async function done(job: Job<RevocationJobData>, deps: WorkerDeps, log: Logger, d: Done, extra: Record<string, unknown>): Promise<RevocationJobResult> {
  const { status, via, instance, identified, confirmed } = d;
  const outcome = {
    status,
    via,
    type: job.data.type,
    at: new Date().toISOString(),
    attempts: job.attemptsMade + 1,
    ...(instance ? { instance } : {}),
    ...(identified ? { identified } : {}),
    ...(confirmed !== undefined ? { confirmed } : {}),
  };
  const elapsedMs = Date.now() - job.data.acceptedAt;
  const lost = extra['lostAnswer'] === true;
  // Logged once the outcome is durable, as before the writes were one MULTI: a re-run after the line finds the outcome.
  const committed = () => log.info({ status, via, instance, identified, confirmed, sinceAcceptedMs: elapsedMs, ...extra }, `token ${status}${lost ? ' (the answer to our earlier call was lost; gone when checked again)' : status === 'submitted' ? ' (unconfirmed)' : ''}`);
  await deps.journal.settled({ fingerprint: job.data.fp, type: job.data.type, status, strategy: via, instance, identified, confirmed, location: job.data.location, elapsedMs, note: d.note, ...about(job, deps) }, job.attemptsMade + 1, { write: (multi) => deps.outcomes.queueRecord(multi, job.data.fp, outcome), committed });
  return { status, via };
}

/**
 * "Already gone" or "not found" right after one of our revoking calls went unanswered: that call most likely did it.
 * Recorded as what it would have done (revoked, reset, deleted), with its strategy and instance.
 */
export function afterLostAnswer(outcome: Extract<Outcome, { status: Gone }>, data: RevocationJobData): Extract<Outcome, { status: Gone }> {
  if (!data.lost || (outcome.status !== 'already_gone' && outcome.status !== 'not_found')) return outcome;
  const instance = data.lost.instance ?? outcome.instance;
  return { status: data.lost.status, via: data.lost.via, ...(instance ? { instance } : {}), ...(outcome.identified ? { identified: outcome.identified } : {}) };
}

async function postpone(job: Job<RevocationJobData>, lockToken: string | undefined, delayMs: number): Promise<never> {
  await job.moveToDelayed(Date.now() + delayMs, lockToken);
  throw new DelayedError();
}

/**
 * A terminal failure, or on-call work (`needs_manual`): logged and journaled once, kept in the failed set with
 * `reason: summary` for an operator to replay or resolve.
 */
async function fail(job: Job<RevocationJobData>, deps: WorkerDeps, log: Logger, reason: string, summary: string, instance?: string, status: 'failed' | 'needs_manual' = 'failed'): Promise<UnrecoverableError> {
  if (status === 'needs_manual') log.warn({ reason, summary, location: job.data.location }, 'no API can revoke this type: on-call must act (kept in the failed set until resolved)');
  else log.error({ reason, summary, instance }, 'revocation failed permanently; kept in the failed set for replay');
  const message = `${reason}: ${summary}`;
  await deps.journal.settled({ fingerprint: job.data.fp, type: job.data.type, status, reason: message, instance, location: job.data.location, elapsedMs: Date.now() - job.data.acceptedAt, ...about(job, deps) }, job.attemptsMade + 1);
  return new UnrecoverableError(message);
}

/** Who handles the token and as which kind, and the vulnerabilities its job names: for listeners (feedback). */
function about(job: Job<RevocationJobData>, deps: WorkerDeps): { provider?: string; kind?: string; vulnerabilities?: RevocationJobData['vulnerabilities'] } {
  const route = deps.registry.forType(job.data.type);
  return { ...(route ? { provider: route.provider.name, kind: route.kind.kind } : {}), ...(job.data.vulnerabilities?.length ? { vulnerabilities: job.data.vulnerabilities } : {}) };
}
