// Prometheus metrics of one process: its own Registry (never prom-client's global one, so that several services in
// one process do not collide), the default process metrics, and the service's series. No label ever carries a token
// or a fingerprint: every label value comes from a bounded set (routes, methods, statuses, configured instance names,
// supported token types, strategies, outcomes, queue names, job states, breaker and credential names `instance:credential`).
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { RevocationMetrics } from '../domain/ports.js';
import { packageVersion } from '../paths.js';

export const METRIC_PREFIX = 'trapi_';

/** Terminal statuses that are a revocation by us: what the time-to-revoke histogram observes. */
const REVOCATIONS: ReadonlySet<string> = new Set(['revoked', 'reset', 'deleted']);

/** What a terminal result tells the metrics (a subset of the journal's `Settled`). */
export interface SettledResult {
  readonly type: string;
  readonly status: string;
  readonly instance?: string | undefined;
  readonly strategy?: string | undefined;
  readonly elapsedMs: number;
}

export class Metrics implements RevocationMetrics {
  readonly registry = new Registry();
  readonly #collectors: Array<() => Promise<void>> = [];
  /** METRICS_TOKEN, if set: what a scrape must present as `Authorization: Bearer <token>`. */
  readonly #credentials: readonly string[];

  readonly httpRequests = new Counter({
    name: `${METRIC_PREFIX}http_requests_total`,
    help: 'HTTP requests answered, by route pattern (or "unmatched"), method and status code.',
    labelNames: ['route', 'method', 'status'] as const,
    registers: [this.registry],
  });

  readonly tokensReceived = new Counter({
    name: `${METRIC_PREFIX}tokens_received_total`,
    help: 'Tokens received by POST /v1/revoke_tokens, by type, counted once durably queued; types no provider handles count as "unsupported".',
    labelNames: ['type'] as const,
    registers: [this.registry],
  });

  readonly outcomes = new Counter({
    name: `${METRIC_PREFIX}revocation_outcomes_total`,
    help: 'Terminal results of revocation jobs, by instance, strategy and outcome (revoked, reset, deleted, already_gone, not_found, failed); "none" when not applicable.',
    labelNames: ['instance', 'strategy', 'outcome'] as const,
    registers: [this.registry],
  });

  readonly timeToRevoke = new Histogram({
    name: `${METRIC_PREFIX}time_to_revoke_seconds`,
    help: 'Seconds from acceptance of a token to its revocation (outcomes revoked, reset, deleted).',
    // From 1 ms: a revocation at a healthy GitLab takes milliseconds (targets p50 ≤ 3 ms, p99 ≤ 25 ms), one held
    // behind a 429 or a breaker minutes to hours. The alert's and dashboard's boundaries (60, 300, 600 s) stay.
    buckets: [0.001, 0.002, 0.003, 0.004, 0.005, 0.0075, 0.01, 0.015, 0.02, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600, 1800, 3600, 7200, 21600, 86400],
    registers: [this.registry],
  });

  readonly providerCalls = new Histogram({
    name: `${METRIC_PREFIX}provider_call_duration_seconds`,
    help: 'Duration of one revocation attempt at a provider (every instance and strategy it tried), in seconds.',
    labelNames: ['provider'] as const,
    buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    registers: [this.registry],
  });

  readonly vulnerabilityFeedback = new Counter({
    name: `${METRIC_PREFIX}vulnerability_feedback_total`,
    help: 'Calls writing back to a finding\'s vulnerability, by action (note, resolve) and result: ok, failed (retried with backoff, then kept in the feedback failed set), unavailable (the instance cannot: skipped).',
    labelNames: ['action', 'result'] as const,
    registers: [this.registry],
  });

  readonly jobs = new Gauge({
    name: `${METRIC_PREFIX}jobs`,
    help: 'Jobs per queue and state, read from Redis at scrape time.',
    labelNames: ['queue', 'state'] as const,
    registers: [this.registry],
  });

  readonly oldestWaitingAge = new Gauge({
    name: `${METRIC_PREFIX}oldest_waiting_job_age_seconds`,
    help: 'Seconds since the acceptance of the longest-waiting token not yet settled, per queue: waiting, retrying, held or running (0 when none), read at scrape time.',
    labelNames: ['queue'] as const,
    registers: [this.registry],
  });

  readonly tokensWaiting = new Gauge({
    name: `${METRIC_PREFIX}tokens_waiting`,
    help: 'Unsettled tokens by why they last waited: held:<reason> (a vendor budget, an endpoint, our credential), pending:<reason> (a batch, a confirmation), retrying:<reason>, rate_limited:<reason>; read at scrape time.',
    labelNames: ['why'] as const,
    registers: [this.registry],
  });

  readonly breakerOpen = new Gauge({
    name: `${METRIC_PREFIX}credential_breaker_open`,
    help: 'Whether a provider refuses one of our credentials (1) or not (0), per breaker (instance:credential, e.g. github:token), read at scrape time.',
    labelNames: ['breaker'] as const,
    registers: [this.registry],
  });

  readonly credentialExpiry = new Gauge({
    name: `${METRIC_PREFIX}credential_expiry_timestamp_seconds`,
    help: 'When each of our GitLab credentials (instance:credential) expires, in Unix seconds, as GitLab last reported it; absent when it never expires or was not read yet. Read from Redis at scrape time.',
    labelNames: ['credential'] as const,
    registers: [this.registry],
  });

  readonly credentialLastRotation = new Gauge({
    name: `${METRIC_PREFIX}credential_last_rotation_timestamp_seconds`,
    help: 'When each self-rotated credential was last rotated, in Unix seconds; absent before its first rotation. Read from Redis at scrape time.',
    labelNames: ['credential'] as const,
    registers: [this.registry],
  });

  readonly credentialGeneration = new Gauge({
    name: `${METRIC_PREFIX}credential_generation`,
    help: 'Generation of each self-rotated credential this process uses (0: the configured value, the store not read yet); replicas that agree use the same credential.',
    labelNames: ['credential'] as const,
    registers: [this.registry],
  });

  readonly credentialRotations = new Counter({
    name: `${METRIC_PREFIX}credential_rotations_total`,
    help: 'Self-rotations attempted by this process, by credential and result: rotated, recovered (an interrupted one finished), refused (GitLab did not rotate), unknown (answer lost; recovered at the next check), lost (the successor is gone).',
    labelNames: ['credential', 'result'] as const,
    registers: [this.registry],
  });

  /** Always 1: the labels say which build runs (dashboards and alerts join on it; replicas on two versions stand out). */
  readonly buildInfo = new Gauge({
    name: `${METRIC_PREFIX}build_info`,
    help: 'Always 1; labels: the service version (package.json) and the Node.js version running it.',
    labelNames: ['version', 'node'] as const,
    registers: [this.registry],
  });

  constructor(options: { readonly defaultMetrics?: boolean; readonly token?: string | undefined } = {}) {
    this.#credentials = Object.freeze(options.token === undefined ? [] : [options.token]);
    this.buildInfo.set({ version: packageVersion(), node: process.versions.node }, 1);
    if (options.defaultMetrics !== false) collectDefaultMetrics({ register: this.registry, prefix: METRIC_PREFIX });
  }

  /** The credentials a scrape must present; empty: `/metrics` is open (Prometheus convention). */
  credentials(): readonly string[] {
    return this.#credentials;
  }

  /** Runs before every scrape (queue and breaker gauges); a failing collector leaves its gauges as they were. */
  onScrape(collect: () => Promise<void>): void {
    this.#collectors.push(collect);
  }

  /** The exposition text, after refreshing what is read at scrape time. */
  async scrape(): Promise<{ contentType: string; body: string }> {
    await Promise.all(this.#collectors.map((c) => c().catch(() => undefined)));
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }

  providerCall(provider: string, seconds: number): void {
    this.providerCalls.observe({ provider }, seconds);
  }

  /** Counts one terminal result (called from the journal's listeners). */
  settled(result: SettledResult): void {
    this.outcomes.inc({ instance: result.instance ?? 'none', strategy: result.strategy ?? 'none', outcome: result.status });
    if (REVOCATIONS.has(result.status)) this.timeToRevoke.observe(Math.max(0, result.elapsedMs) / 1000);
  }
}
