// Entry point of `npm run bench`: service (ROLE=api) vs a bare node:http + ioredis server, on one private Redis; then the
// service on one Redis vs on a master with one replica and WAIT before 204 (REDIS_MIN_REPLICAS_ACK=1); then the drain
// rate of a token backlog by one worker against the GitLab simulator, beside the configured outbound limit; then
// 10,000 GitHub tokens through the service against the GitHub simulator, beside a bare client; last, per master of a
// three-master cluster, the keys, memory and commands the service puts on each (all on the one holding {trapi}).
import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { measure } from './accept.js';
import { clusterReport, runCluster, type ClusterResult } from './cluster.js';
import { defaultDrainConcurrency, drainFailed, runDrain, type DrainResult, type DrainSettings } from './drain.js';
import { drainReport } from './drain-report.js';
import { gitHubDrainFailed, gitHubDrainReport, runGitHubDrain, type GitHubDrainResult, type GitHubDrainSettings } from './github-drain.js';
import { stopAll, stopChild } from './processes.js';
import { comparisonLines, comparisons, REPLICATED, runReplication, SINGLE } from './replication.js';
import { startRedis } from './redis.js';
import { busyWarning, machine, ratioLines, ratios, rowFailed, table, type Row } from './report.js';
import { startBare, startService } from './targets.js';
import { PERF_SECTIONS, runPerf } from './perf-run.js';

function intEnv(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${name} must be a positive integer, got "${raw}"`);
  return n;
}

const SECTIONS = ['post', 'replication', 'drain', 'github', ...PERF_SECTIONS, 'cluster'] as const;
type Section = (typeof SECTIONS)[number];

function sectionsEnv(): Section[] {
  const raw = process.env['BENCH_SECTIONS'];
  if (raw === undefined || raw.trim() === '') return [...SECTIONS];
  const list = raw.split(',').map((x) => x.trim());
  for (const x of list) if (!(SECTIONS as readonly string[]).includes(x)) throw new Error(`BENCH_SECTIONS must be a comma-separated subset of ${SECTIONS.join(',')}, got "${raw}"`);
  return SECTIONS.filter((x) => list.includes(x));
}

const drainLimit = intEnv('BENCH_DRAIN_LIMIT', 400);
const drainLatency = intEnv('BENCH_DRAIN_LATENCY_MS', 20);
const drainConcurrency = intEnv('BENCH_DRAIN_CONCURRENCY', defaultDrainConcurrency(drainLimit, drainLatency));
const drainSettings: DrainSettings = {
  tokens: intEnv('BENCH_DRAIN_TOKENS', 10_000),
  tokensPerRequest: intEnv('BENCH_DRAIN_TOKENS_PER_REQUEST', 100),
  latencyMs: drainLatency,
  limitPerSecond: drainLimit,
  // Equal, so a job that holds a worker slot never waits (polling Redis every 5 ms) for a GitLab slot.
  gitlabConcurrency: drainConcurrency,
  workerConcurrency: drainConcurrency,
  logLevel: 'warn',
};

const githubSettings: GitHubDrainSettings = {
  tokens: intEnv('BENCH_GITHUB_TOKENS', 10_000),
  tokensPerRequest: intEnv('BENCH_GITHUB_TOKENS_PER_REQUEST', 100),
  batchWaitMs: intEnv('BENCH_GITHUB_BATCH_WAIT_MS', 1000),
  // 1 s instead of the default 30 s: the simulator revokes at once, and the figure is the service's own cost.
  confirmAfterMs: intEnv('BENCH_GITHUB_CONFIRM_AFTER_MS', 1000),
  perSecond: intEnv('BENCH_GITHUB_RATE', 2000),
  concurrency: intEnv('BENCH_GITHUB_CONCURRENCY', 50),
  workerConcurrency: intEnv('BENCH_GITHUB_WORKER_CONCURRENCY', 50),
};

const clusterSettings = { tokens: intEnv('BENCH_CLUSTER_TOKENS', 2000), tokensPerRequest: 100, logLevel: 'warn' };

const settings = {
  sections: sectionsEnv(),
  seconds: intEnv('BENCH_SECONDS', 10),
  warmupSeconds: intEnv('BENCH_WARMUP_SECONDS', 2),
  connections: intEnv('BENCH_CONNECTIONS', 50),
  tokensPerRequest: (process.env['BENCH_TOKENS'] ?? '1,10,100').split(',').map((s) => {
    const n = Number(s.trim());
    if (!Number.isInteger(n) || n < 1) throw new Error(`BENCH_TOKENS must be a comma-separated list of positive integers, got "${s}"`);
    return n;
  }),
  // Far above what the bench can send, so nothing is refused: the limiter runs as it does for any client far below its
  // budget (counted locally, sent to Redis every 100 ms; see src/rate-limit/budget-store.ts).
  rateLimitPerMinute: 10_000_000,
  // Request logs are info-level: at warn the service does not spend the bench writing them (the bare server logs nothing).
  serviceLogLevel: 'warn',
};

const RESULTS = fileURLToPath(new URL('../../bench/results/', import.meta.url)); // dist/bench/ -> bench/results/

async function main(): Promise<number> {
  const redis = await startRedis();
  const context = machine(redis.version); // before our own children add load
  const runPost = settings.sections.includes('post');
  const runDrainSection = settings.sections.includes('drain');
  const runReplicationSection = settings.sections.includes('replication');

  process.stdout.write(`Token Revocation API bench (sections: ${settings.sections.join(', ')})\n`);
  process.stdout.write(`Machine: ${Object.entries(context).map(([k, v]) => `${k}=${v}`).join(', ')}\n`);
  if (runPost || runReplicationSection) {
    process.stdout.write(
      `Settings: ${settings.seconds} s per run after ${settings.warmupSeconds} s warm-up, ${settings.connections} connections, tokens/request ${settings.tokensPerRequest.join('/')}; ` +
        `service ROLE=api LOG_LEVEL=${settings.serviceLogLevel} (request logs off) RATE_LIMIT_PER_MINUTE=${settings.rateLimitPerMinute}; ` +
        `one private redis-server (appendonly yes, appendfsync everysec, no RDB), FLUSHALL between runs; ` +
        `load generator, targets and Redis share this machine.\n`,
    );
  }
  if (runReplicationSection) {
    process.stdout.write(
      `Replication settings: as the POST section's, tokens/request ${settings.tokensPerRequest.join('/')}; the service (ROLE=api) on the same private redis-server ` +
        `with REDIS_MIN_REPLICAS_ACK=0 ("${SINGLE}"), and on a second one with a replica of its own (--replicaof, same durability, same machine) ` +
        `with REDIS_MIN_REPLICAS_ACK=1 ("${REPLICATED}": WAIT before each 204); runs alternate, FLUSHALL between them.\n`,
    );
  }
  if (runDrainSection) {
    const d = drainSettings;
    process.stdout.write(
      `Drain settings: ${d.tokens} tokens in requests of ${d.tokensPerRequest}, simulator latency ${d.latencyMs} ms per call (own process), ` +
        `worker GITLAB_RATE_LIMIT_PER_SECOND=${d.limitPerSecond} GITLAB_CONCURRENCY=${d.gitlabConcurrency} WORKER_CONCURRENCY=${d.workerConcurrency}; same private redis-server, FLUSHALL first.\n`,
    );
  }
  process.stdout.write(`${busyWarning(context)}\n`);

  const rows: Row[] = [];
  if (runPost) {
    // Started once and kept for every run, each in its own process, like a deployment.
    const service = await startService(redis.url, settings.rateLimitPerMinute, settings.serviceLogLevel);
    const bare = await startBare(redis.url);
    for (const n of settings.tokensPerRequest) {
      for (const target of [service, bare]) rows.push(await measure(settings, redis, target, n));
    }
    // Not needed by the drain: stopped so they do not share the CPUs with it.
    await Promise.all([stopChild(service.child), stopChild(bare.child)]);
  }
  const ratioList = ratios(rows);
  if (runPost) process.stdout.write(`\n${table(rows)}\n\nService ÷ bare (tokens/s):\n${ratioLines(ratioList)}\n`);

  let replication: Row[] | { error: string } | null = null;
  if (runReplicationSection) {
    process.stdout.write(`\nReplication: one Redis vs a master with one replica and WAIT before 204\n`);
    try {
      replication = await runReplication(redis, settings);
      process.stdout.write(`\n${table(replication)}\n\nWith WAIT ÷ single:\n${comparisonLines(comparisons(replication))}\n`);
    } catch (err) {
      replication = { error: err instanceof Error ? err.message : String(err) };
      process.stdout.write(`\n!! replication section failed: ${replication.error}\n`);
    }
  }

  let drain: DrainResult | { error: string } | null = null;
  if (runDrainSection) {
    process.stdout.write(`\nDrain: ${drainSettings.tokens} tokens, one worker, simulator at ${drainSettings.latencyMs} ms per call\n`);
    try {
      const result = await runDrain(redis, drainSettings, (line) => process.stdout.write(`${line}\n`));
      drain = result;
      process.stdout.write(`\n${drainReport(result)}\n`);
    } catch (err) {
      // The POST figures above are still written; the drain is recorded as failed.
      drain = { error: err instanceof Error ? err.message : String(err) };
      process.stdout.write(`\n!! drain failed: ${drain.error}\n`);
    }
  }

  let github: GitHubDrainResult | { error: string } | null = null;
  if (settings.sections.includes('github')) {
    process.stdout.write(`\nGitHub drain: ${githubSettings.tokens} tokens\n`);
    try {
      github = await runGitHubDrain(redis, githubSettings);
      process.stdout.write(`\n${gitHubDrainReport(github)}\n`);
    } catch (err) {
      github = { error: err instanceof Error ? err.message : String(err) };
      process.stdout.write(`\n!! GitHub drain failed: ${github.error}\n`);
    }
  }

  const replicationFailed = replication === null ? 0 : 'error' in replication ? 1 : replication.filter(rowFailed).length;
  const perf = await runPerf(redis, settings.sections, (s) => process.stdout.write(s));

  let cluster: ClusterResult | { error: string } | null = null;
  if (settings.sections.includes('cluster')) {
    process.stdout.write(`\nCluster: ${clusterSettings.tokens} tokens on three masters with a replica each (ROLE=all, REDIS_CLUSTER_NODES), per master\n`);
    try {
      cluster = await runCluster(redis, clusterSettings);
      process.stdout.write(`\n${clusterReport(cluster)}\n`);
    } catch (err) {
      cluster = { error: err instanceof Error ? err.message : String(err) };
      process.stdout.write(`\n!! cluster section failed: ${cluster.error}\n`);
    }
  }
  const failed = (cluster && 'error' in cluster ? 1 : 0) + perf.failed + rows.filter(rowFailed).length + replicationFailed + (drain && ('error' in drain || drainFailed(drain)) ? 1 : 0) + (github && ('error' in github || gitHubDrainFailed(github)) ? 1 : 0);
  mkdirSync(RESULTS, { recursive: true });
  const file = `${RESULTS}latest.json`;
  const record = { date: new Date().toISOString(), machine: context, settings: { ...settings, drain: runDrainSection ? drainSettings : null, github: githubSettings }, rows, ratios: ratioList, replication: replication && ('error' in replication ? replication : { rows: replication, comparisons: comparisons(replication) }), drain, github, perf: perf.results, cluster, failed };
  writeFileSync(file, `${JSON.stringify(record, null, 2)}\n`);
  process.stdout.write(`\nFigures written to ${file}\n`);
  if (failed > 0) {
    process.stdout.write(`\n!! ${failed} run(s) had errors, lost acknowledged tokens, or (drain) did not revoke every token exactly once: the figures above are not trustworthy.\n`);
    return 1;
  }
  return 0;
}

let interrupted = false;
const onSignal = (signal: NodeJS.Signals) => {
  if (interrupted) process.exit(130); // second Ctrl-C: the 'exit' handler still SIGKILLs children and removes the temp dir
  interrupted = true;
  process.stderr.write(`\n${signal}: stopping the bench\n`);
  void stopAll().finally(() => process.exit(130));
};
process.on('SIGINT', onSignal);
process.on('SIGTERM', onSignal);

main().then(
  async (code) => {
    await stopAll();
    process.exit(code);
  },
  async (err: unknown) => {
    process.stderr.write(`bench failed: ${err instanceof Error ? err.message : String(err)}\n`);
    await stopAll();
    process.exit(1);
  },
);
