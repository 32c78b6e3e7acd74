// Cluster section: the hot spot issue 13 asks to measure. Every key carries the hash tag {trapi}, so on a three-master
// cluster one master holds all of the service's keys and takes its traffic; this prints how much, per master.
import { ask, startCluster } from '../test/support/redis-ha.js';
import { onCleanup, stopChild } from './processes.js';
import type { BenchRedis } from './redis.js';
import { startSimulator, type BenchSimulator } from './simulator.js';
import { API_TOKEN, newEncryptionKey, startService, type Target } from './targets.js';

const TOKEN_TYPE = 'gitleaks_rule_id_gitlab_personal_access_token';
const REVOKING = 'DELETE /api/v4/admin/token 204';
/** Two calls per personal access token (identify, then revoke): 400 calls/s drains 2,000 tokens in about 10 s. */
const WORKER_ENV = { GITLAB_RATE_LIMIT_PER_SECOND: '400', GITLAB_CONCURRENCY: '40', WORKER_CONCURRENCY: '40' };
const SIM_LATENCY_MS = 20;

export interface ClusterSettings {
  readonly tokens: number;
  readonly tokensPerRequest: number;
  readonly logLevel: string;
}

export interface MasterShare {
  readonly port: number;
  /** Serves the slot of {trapi}. */
  readonly holdsTag: boolean;
  readonly keys: number;
  readonly usedMemory: number;
  /** total_commands_processed during the run (from before the first POST until every token was revoked). */
  readonly commands: number;
}

export interface Run {
  readonly acceptTokensPerS: number;
  readonly revokeSeconds: number;
}

export interface ClusterResult {
  readonly settings: ClusterSettings;
  readonly masters: readonly MasterShare[];
  readonly cluster: Run;
  readonly single: Run;
}

const field = (info: string, name: string): number => Number(new RegExp(`^${name}:(\\d+)`, 'm').exec(info)?.[1] ?? NaN);

/** Sends the tokens in sequential batches (as GitLab sends one push's findings), waits until all are revoked. */
async function runOnce(service: Target, sim: BenchSimulator, tokens: readonly string[], perRequest: number, revokedBefore: number): Promise<Run> {
  const started = Date.now();
  for (let i = 0; i < tokens.length; i += perRequest) {
    const items = tokens.slice(i, i + perRequest).map((token) => ({ type: TOKEN_TYPE, token, location: 'https://gitlab.example.com/g/p/-/raw/abc/f.yml#L1' }));
    const res = await fetch(`${service.url}/v1/revoke_tokens`, { method: 'POST', headers: { authorization: API_TOKEN, 'content-type': 'application/json' }, body: JSON.stringify(items) });
    if (!res.ok) throw new Error(`cluster: POST /v1/revoke_tokens answered ${res.status}: ${await res.text()}`);
  }
  const accepted = Date.now();
  const deadline = accepted + 120_000;
  for (;;) {
    const revoked = ((await sim.counters()).counters[REVOKING] ?? 0) - revokedBefore;
    if (revoked >= tokens.length) break;
    if (service.child.proc.exitCode !== null) throw new Error(`cluster: the service exited:\n${service.child.tail()}`);
    if (Date.now() > deadline) throw new Error(`cluster: ${revoked} of ${tokens.length} tokens revoked after 120 s:\n${service.child.tail()}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  return { acceptTokensPerS: tokens.length / ((accepted - started) / 1000), revokeSeconds: (Date.now() - started) / 1000 };
}

/**
 * A three-master cluster with a replica each, the service (ROLE=all, REDIS_MIN_REPLICAS_ACK auto: WAIT for the
 * replica) on it; then the same service on the bench's single Redis for the accept figure beside it.
 */
export async function runCluster(single: BenchRedis, s: ClusterSettings): Promise<ClusterResult> {
  const sim = await startSimulator(SIM_LATENCY_MS, 100_000);
  const cluster = await startCluster();
  onCleanup(() => void cluster.stop()); // SIGKILLs synchronously: safe from the exit handler too
  try {
    const gitlab = { url: sim.url, adminToken: sim.adminToken, encryptionKey: newEncryptionKey() };
    const seeds = cluster.nodes.map((n) => `${n.host}:${n.port}`).join(',');
    const first = cluster.nodes[0]!;
    const onCluster = await startService(`redis://${first.host}:${first.port}`, 10_000_000, s.logLevel, gitlab, { ROLE: 'all', REDIS_CLUSTER_NODES: seeds, ...WORKER_ENV });
    const masters = (await Promise.all(cluster.nodes.map(async (n) => ((await ask(n, (r) => r.info('replication'))).includes('role:master') ? [n] : [])))).flat();
    const slot = Number(await ask(first, (r) => r.cluster('KEYSLOT', '{trapi}')));
    const holds = await Promise.all(masters.map((m) => ask(m, async (r) => {
      const mine = ((await r.call('CLUSTER', 'NODES')) as string).split('\n').find((l) => l.includes('myself')) ?? '';
      return mine.split(' ').slice(8).some((range) => {
        const [from, to] = range.split('-').map(Number);
        return slot >= from! && slot <= (to ?? from!);
      });
    })));
    const commandsOf = () => Promise.all(masters.map((m) => ask(m, async (r) => field(await r.info('stats'), 'total_commands_processed'))));

    const tokens = await sim.makeTokens('personal_access_token', s.tokens);
    const before = await commandsOf();
    const onClusterRun = await runOnce(onCluster, sim, tokens, s.tokensPerRequest, 0);
    const after = await commandsOf();
    const shares = await Promise.all(masters.map(async (m, i) => ({
      port: m.port,
      holdsTag: holds[i]!,
      keys: await ask(m, (r) => r.dbsize()),
      usedMemory: field(await ask(m, (r) => r.info('memory')), 'used_memory'),
      commands: after[i]! - before[i]!,
    })));
    await stopChild(onCluster.child);

    await single.client.flushall();
    const onSingle = await startService(single.url, 10_000_000, s.logLevel, gitlab, { ROLE: 'all', ...WORKER_ENV });
    const singleTokens = await sim.makeTokens('personal_access_token', s.tokens);
    const singleRun = await runOnce(onSingle, sim, singleTokens, s.tokensPerRequest, s.tokens);
    await stopChild(onSingle.child);
    await single.client.flushall();
    return { settings: s, masters: shares, cluster: onClusterRun, single: singleRun };
  } finally {
    await cluster.stop();
    await stopChild(sim.child);
  }
}

const pct = (part: number, whole: number) => `${whole > 0 ? ((100 * part) / whole).toFixed(2) : '0.00'} %`;

export function clusterReport(r: ClusterResult): string {
  const sum = (f: (m: MasterShare) => number) => r.masters.reduce((a, m) => a + f(m), 0);
  const [keys, memory, commands] = [sum((m) => m.keys), sum((m) => m.usedMemory), sum((m) => m.commands)];
  const header = ['master', 'keys', 'share', 'used_memory', 'share', 'commands', 'share'];
  const body = r.masters.map((m) => [
    `${m.port}${m.holdsTag ? ' ({trapi})' : ''}`,
    String(m.keys), pct(m.keys, keys),
    `${(m.usedMemory / 2 ** 20).toFixed(1)} MiB`, pct(m.usedMemory, memory),
    String(m.commands), pct(m.commands, commands),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((c) => (c[i] ?? '').length)));
  const line = (cells: readonly string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(' | ');
  return [
    line(header),
    widths.map((w) => '-'.repeat(w)).join('-|-'),
    ...body.map(line),
    '',
    `Accept (${r.settings.tokens} tokens, sequential requests of ${r.settings.tokensPerRequest}): cluster ${Math.round(r.cluster.acceptTokensPerS)} tokens/s (WAIT for its replica before each 204), ` +
      `single Redis ${Math.round(r.single.acceptTokensPerS)} tokens/s (no replica, no WAIT); all revoked ${r.cluster.revokeSeconds.toFixed(1)} s and ${r.single.revokeSeconds.toFixed(1)} s after the first POST.`,
    'used_memory includes each Redis\'s own baseline (what the masters without keys show); commands are total_commands_processed from the first POST to the last revoke, replication (REPLCONF) and the cluster clients\' slot-map refreshes included.',
  ].join('\n');
}
