// What on-call can see and do (status, failed tokens, records, replay, resolve, pause), for the CLI and the admin API.
import type { Job, Queue } from 'bullmq';
import type { Cluster, Redis } from 'ioredis';
import type { CredentialBreakers } from '../../providers/contract.js';
import { fingerprint } from '../domain/fingerprint.js';
import type { EncryptionKey } from '../domain/crypto.js';
import type { AuditEntry, FailedFilter, FailedToken, Operations, Progress, RekeyReport, ReplayRun, ReplaySelection, Status, TokenTypes, TokenView } from '../domain/ports.js';
import { mergeRefs } from '../domain/vulnerability.js';
import { AppError, StoreUnavailableError } from '../errors.js';
import type { AuditLog } from './audit.js';
import type { FeedbackRequests } from './feedback.js';
import type { IntakeJobData, RevocationJobData } from './jobs.js';
import type { OutcomeStore } from './outcomes.js';
import type { RecordStore } from './records.js';
import type { ReplicaGate } from './redis.js';
import { rekey } from './rekey.js';
import { ReplayRuns } from './replay-runs.js';
import { oldestWaitingSeconds, type UnsettledTokens } from './unsettled.js';

export interface OperationsDeps {
  /** For the state of background replays (`startReplay`), which any replica must be able to read. */
  readonly redis: Redis | Cluster;
  readonly revocations: Queue<RevocationJobData>;
  readonly intake: Queue<IntakeJobData>;
  readonly records: RecordStore;
  readonly audit: AuditLog;
  readonly outcomes: OutcomeStore;
  readonly unsettled: UnsettledTokens;
  readonly breakers: CredentialBreakers;
  readonly tokenTypes: TokenTypes;
  readonly keys: () => readonly EncryptionKey[];
  /** Our GitLab credentials' status, and re-sealing the stored ones (key rotation). */
  readonly credentials: {
    status(): Promise<Status['credentials']>;
    rekey(): Promise<{ rekeyed: number; current: number; stillUsed: readonly string[] }>;
  };
  /** Vulnerability feedback, when on: a token resolved by on-call gets its notes too. */
  readonly feedback?: FeedbackRequests | undefined;
  /** Confirms a replay or resolve only once the replicas have it (on the connection all of the above write on). */
  readonly replicated?: Pick<ReplicaGate, 'confirm' | 'epoch'> | undefined;
}

const STATES = ['waiting', 'active', 'delayed', 'prioritized', 'failed', 'completed'] as const;

export class QueueOperations implements Operations {
  readonly #runs: ReplayRuns;

  constructor(private readonly d: OperationsDeps) {
    this.#runs = new ReplayRuns(d.redis);
  }

  async status(): Promise<Status> {
    const [revocations, intake, breakers, workers, paused, credentials, waiting, needsManual] = await Promise.all([
      this.d.revocations.getJobCounts(...STATES),
      this.d.intake.getJobCounts(...STATES),
      this.d.breakers.states(),
      this.d.revocations.getWorkersCount().catch(() => -1), // CLIENT LIST may be disabled on managed Redis
      this.d.revocations.isPaused(),
      this.d.credentials.status(),
      this.d.unsettled.waitingCounts(),
      this.failed({ reason: 'report_only' }).then((t) => t.length),
    ]);
    const feedback = this.d.feedback ? { feedback: await this.d.feedback.queue.getJobCounts(...STATES) } : {};
    return {
      jobs: { revocations, intake, ...feedback },
      oldestWaitingSeconds: { revocations: await oldestWaitingSeconds(this.d.revocations, this.d.unsettled), intake: await oldestWaitingSeconds(this.d.intake, this.d.unsettled) },
      breakers,
      workers,
      paused,
      credentials,
      waiting,
      needsManual,
    };
  }

  async failed(filter: FailedFilter): Promise<FailedToken[]> {
    const out: FailedToken[] = [];
    for (let start = 0; ; start += 500) {
      const jobs = await this.d.revocations.getFailed(start, start + 499);
      for (const job of jobs) {
        const t = await this.#failedToken(job);
        if (matches(t, filter)) out.push(t);
      }
      if (jobs.length < 500) return out;
    }
  }

  async show(fingerprintOrPrefix: string): Promise<TokenView | undefined> {
    const fp = await this.#resolveFingerprint(fingerprintOrPrefix);
    return fp === undefined ? undefined : this.#view(fp);
  }

  async replay(selection: ReplaySelection, actor: string, progress?: Progress): Promise<string[]> {
    checkSelection(selection);
    const fps = selection.fingerprint !== undefined ? [await this.#mustResolve(selection.fingerprint)] : selection.all || selection.filter ? (await this.failed(selection.filter ?? {})).map((t) => t.fingerprint) : [];
    const queued: string[] = [];
    const epoch = this.d.replicated?.epoch;
    progress?.(0, fps.length);
    for (const [i, fp] of fps.entries()) {
      await this.#replayOne(fp, selection, actor, queued);
      progress?.(i + 1, fps.length);
    }
    // One WAIT for the whole selection: it covers every write made before it on this connection.
    if (queued.length > 0) await this.#replicated(epoch);
    return queued;
  }

  async startReplay(selection: ReplaySelection, actor: string): Promise<ReplayRun> {
    checkSelection(selection);
    return this.#runs.start(actor, (progress) => this.replay(selection, actor, progress));
  }

  replayRun(id: string): Promise<ReplayRun | undefined> {
    return this.#runs.get(id);
  }

  async #replayOne(fp: string, selection: ReplaySelection, actor: string, queued: string[]): Promise<void> {
    {
      const job = await this.d.revocations.getJob(fp);
      if (!job || !(await job.isFailed())) {
        if (selection.fingerprint !== undefined) throw new AppError('not_failed', `token ${fp.slice(0, 12)} is not in the failed set; nothing to replay`);
        return;
      }
      // A fresh retry horizon and attempt count: the operator fixed the cause. Read the reason before retry clears it.
      const was = job.failedReason;
      await job.updateData({ ...job.data, acceptedAt: Date.now() });
      await job.retry('failed', { resetAttemptsMade: true, resetAttemptsStarted: true });
      await this.d.unsettled.replayed(fp, Date.now());
      // The failure is history now (the event keeps it): the current view must not show it as the token's last error.
      await this.d.records.change(fp, { state: 'accepted', event: 'replayed', actor, detail: `was: ${was}`, clear: ['lastError', 'lastSummary'], rebaseAttempts: true });
      await this.d.audit.append({ actor, action: 'replay', fingerprint: fp, detail: was });
      queued.push(fp);
    }
  }

  async resolve(fingerprintOrPrefix: string, reason: string, actor: string): Promise<TokenView> {
    if (reason.trim().length === 0) throw new AppError('invalid_request', 'a reason is required to resolve a token');
    const fp = await this.#mustResolve(fingerprintOrPrefix);
    const epoch = this.d.replicated?.epoch;
    const job = await this.d.revocations.getJob(fp);
    if (!job || !(await job.isFailed())) throw new AppError('not_failed', `token ${fp.slice(0, 12)} is not in the failed set; only failed tokens can be resolved`);
    const record = await this.d.records.get(fp);
    // Removing the job removes its ciphertext; the outcome keeps resends from queueing it again.
    await job.remove();
    await this.d.outcomes.record(fp, { status: 'resolved', via: `operator:${actor}`, type: job.data.type, at: new Date().toISOString(), attempts: job.attemptsMade, ...(record?.instance ? { instance: record.instance } : {}) });
    await this.d.records.change(fp, { state: 'resolved', event: 'resolved', actor, detail: reason });
    await this.d.audit.append({ actor, action: 'resolve', fingerprint: fp, detail: reason });
    await this.d.feedback?.request(
      { fingerprint: fp, type: job.data.type, status: 'resolved', strategy: `operator:${actor}`, instance: record?.instance, reason: `resolved by ${actor}: ${reason}`, at: new Date().toISOString() },
      mergeRefs(job.data.vulnerabilities, record?.vulnerabilities),
    );
    await this.#replicated(epoch);
    return (await this.#view(fp)) as TokenView;
  }

  async lookup(token: string): Promise<{ fingerprint: string; record: TokenView | undefined }> {
    const fp = fingerprint(token);
    return { fingerprint: fp, record: await this.#view(fp) };
  }

  types(): string[] {
    return this.d.tokenTypes.types();
  }

  async pause(actor: string): Promise<void> {
    await this.d.revocations.pause();
    await this.d.audit.append({ actor, action: 'pause' });
  }

  async resume(actor: string): Promise<void> {
    await this.d.revocations.resume();
    await this.d.audit.append({ actor, action: 'resume' });
  }

  audit(filter: { fingerprint?: string; since?: number; limit?: number }): Promise<AuditEntry[]> {
    return this.d.audit.read(filter);
  }

  async retryFeedback(actor: string): Promise<number> {
    const queue = this.d.feedback?.queue;
    if (!queue) throw new AppError('feedback_off', 'vulnerability feedback is off here: nothing to retry');
    let retried = 0;
    for (const job of await queue.getFailed(0, -1)) {
      await job.retry('failed', { resetAttemptsMade: true, resetAttemptsStarted: true });
      retried++;
    }
    await this.d.audit.append({ actor, action: 'feedback_retry', detail: `requeued ${retried} feedback job(s)` });
    return retried;
  }

  async rekey(actor: string, progress?: Progress): Promise<RekeyReport> {
    const jobs = await rekey({ revocations: this.d.revocations, intake: this.d.intake }, this.d.keys(), progress);
    // A stored credential left under a retired key would lock the service out of GitLab: re-seal them too.
    const creds = await this.d.credentials.rekey();
    const report: RekeyReport = { ...jobs, credentials: creds.rekeyed, current: jobs.current + creds.current, stillUsed: [...new Set([...jobs.stillUsed, ...creds.stillUsed])] };
    await this.d.audit.append({ actor, action: 'rekey', detail: `rekeyed ${report.rekeyed} job(s) and ${report.credentials} credential(s); still used: ${report.stillUsed.join(',') || 'none'}` });
    return report;
  }

  async #view(fp: string): Promise<TokenView | undefined> {
    const [record, job] = await Promise.all([this.d.records.get(fp), this.d.revocations.getJob(fp)]);
    if (!record) return undefined;
    if (!job) return record;
    const state = await job.getState();
    return { ...record, job: { state, ...(job.failedReason ? { failedReason: job.failedReason } : {}) } };
  }

  async #failedToken(job: Job<RevocationJobData>): Promise<FailedToken> {
    const record = await this.d.records.get(job.data.fp);
    return {
      fingerprint: job.data.fp,
      type: job.data.type,
      reason: job.failedReason,
      failedAt: new Date(job.finishedOn ?? job.timestamp).toISOString(),
      attempts: job.attemptsMade,
      ...(record?.instance ? { instance: record.instance } : {}),
    };
  }

  /**
   * A replay or resolve lost in a failover would be undone silently (the token back in the failed set, or failed
   * again unseen): on-call gets 503 store_unavailable instead of a confirmation, and may repeat the command.
   */
  async #replicated(since: number | undefined): Promise<void> {
    try {
      await this.d.replicated?.confirm(undefined, since);
    } catch (err) {
      throw new StoreUnavailableError(err);
    }
  }

  async #resolveFingerprint(given: string): Promise<string | undefined> {
    const prefix = given.trim().toLowerCase();
    if (!/^[0-9a-f]{8,64}$/.test(prefix)) throw new AppError('invalid_request', 'a fingerprint is 8 to 64 hex characters');
    if (prefix.length === 64) return prefix;
    const found = await this.d.records.matching(prefix);
    if (found.length > 1) throw new AppError('ambiguous_fingerprint', `more than one token starts with ${prefix}; give more characters`);
    return found[0];
  }

  async #mustResolve(given: string): Promise<string> {
    const fp = await this.#resolveFingerprint(given);
    if (fp === undefined) throw new AppError('not_found', `no token record starts with ${given.trim().toLowerCase()}`);
    return fp;
  }
}

function checkSelection(selection: ReplaySelection): void {
  if (selection.filter && Object.values(selection.filter).every((v) => v === undefined) && !selection.all) {
    throw new AppError('invalid_request', 'an empty filter would replay every failed token; say `all` to mean that');
  }
}

function matches(t: FailedToken, f: FailedFilter): boolean {
  return (
    (f.type === undefined || t.type === f.type) &&
    (f.instance === undefined || t.instance === f.instance) &&
    (f.reason === undefined || t.reason.startsWith(f.reason)) &&
    (f.since === undefined || Date.parse(t.failedAt) >= f.since)
  );
}
