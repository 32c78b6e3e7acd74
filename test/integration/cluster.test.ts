// On a Redis Cluster (three masters with a replica each, real processes), two replicas of the service (ROLE=all):
// 2,000 tokens accepted and revoked exactly once while the master holding the {trapi} slot is SIGKILLed, the inbound
// rate-limit budget and the outbound limiter holding their limits across both replicas, on-call's lookups by a short
// fingerprint (a SCAN) finding every record.
import { Cluster } from 'ioredis';
import request from 'supertest';
import { startGitLabSimulator, type GitLabSimulator } from '../../simulator/index.js';
import { fingerprint } from '../../src/domain/fingerprint.js';
import { allRevoked, revocationsPerToken, sendInBatches } from '../support/ha-load.js';
import { killAll, spawnService } from '../support/process.js';
import { startCluster, type TestCluster } from '../support/redis-ha.js';
import { API_TOKEN, testEnv } from '../support/service.js';

const RATE = 150;
/** With GitLab answering in LATENCY_MS, RATE needs about as many calls in flight as CONCURRENCY allows: both limits are reached. */
const CONCURRENCY = 2;
const LATENCY_MS = 5;
const ONCALL = 'oncall-admin-token-for-the-cluster-test';

let cluster: TestCluster;
let sim: GitLabSimulator;

beforeAll(async () => {
  [cluster, sim] = await Promise.all([startCluster(), startGitLabSimulator()]);
}, 60_000);
afterAll(async () => {
  await killAll();
  await sim?.stop();
  await cluster?.stop();
});

it('two service replicas accept and revoke 2,000 tokens exactly once through a master failover, within the shared limits', async () => {
  const env: Record<string, string | undefined> = {
    ...process.env,
    ...testEnv('redis://unused', sim.url, sim.adminToken, {
      REDIS_CLUSTER_NODES: cluster.nodes.map((n) => `${n.host}:${n.port}`).join(','),
      RATE_LIMIT_PER_MINUTE: '1000000',
      RATE_LIMIT_GET_PER_MINUTE: '5',
      GITLAB_RATE_LIMIT_PER_SECOND: String(RATE),
      GITLAB_CONCURRENCY: String(CONCURRENCY),
      ADMIN_API_TOKENS: `oncall:${ONCALL}`,
      LOG_LEVEL: 'info',
    }),
  };
  delete env['REDIS_URL'];
  const replicas = [spawnService(env), spawnService(env)];
  const urls = await Promise.all(replicas.map((r) => r.started(30_000)));
  for (const r of replicas) expect(r.logs().find((l) => String(l['msg']).includes('REDIS_MIN_REPLICAS_ACK'))?.['minReplicasAck']).toBe(1);

  // The GET budget is one, shared: five answers across both replicas, then 429 from either.
  const get = (url: string) => request(url).get('/v1/revocable_token_types').set('Authorization', API_TOKEN);
  const gets = [];
  for (let i = 0; i < 5; i++) gets.push((await get(urls[i % 2]!)).status);
  expect(gets).toEqual([200, 200, 200, 200, 200]);
  expect((await get(urls[1]!)).status).toBe(429);
  expect((await get(urls[0]!)).status).toBe(429);

  // Half the batches to each replica, the master of the {trapi} slot SIGKILLed once 600 tokens are in.
  const tokens = Array.from({ length: 2000 }, () => sim.createToken('personal_access_token'));
  sim.setLatency(LATENCY_MS);
  let failover: Promise<{ killedAt: number; promotedAt: number }> | undefined;
  const started = Date.now();
  const acceptedBy = [0, 0];
  const onAccepted = (half: number, n: number) => {
    acceptedBy[half] = n;
    if (acceptedBy[0]! + acceptedBy[1]! < 600 || failover) return;
    failover = (async () => {
      const killedAt = Date.now();
      const { killed } = await cluster.killMasterAndWaitForFailover(30_000, '{trapi}');
      const promotedAt = Date.now();
      // As an operator would: the node comes back and, knowing it was failed over, rejoins as a replica. Needed: with
      // REDIS_MIN_REPLICAS_ACK at 1 the promoted master has no replica to acknowledge until then.
      await killed.start();
      return { killedAt, promotedAt };
    })();
  };
  const halves = [tokens.slice(0, 1000), tokens.slice(1000)];
  const reports = await Promise.all(halves.map((half, i) => sendInBatches(urls[i]!, half, { batchSize: 100, senders: 2, onAccepted: (n) => onAccepted(i, n) })));
  expect(failover).toBeDefined();
  const times = await failover!;
  const acceptedMs = Date.now() - started;
  const all = reports.flatMap((r) => r.accepted);
  expect(new Set(all).size).toBe(tokens.length);

  const { at99, atAll } = await allRevoked(sim, tokens);
  const revokedMs = atAll - started;
  const counts = revocationsPerToken(sim);
  expect(tokens.filter((t) => counts.get(t) !== 1)).toEqual([]);

  // The outbound limiter is shared: in no second did GitLab see more than RATE calls (10% for arrival jitter; two
  // limiters of their own would allow twice RATE), nor more than CONCURRENCY at once.
  const calls = sim.calls().filter((c) => c.route === '/api/v4/admin/token' && c.at >= started);
  const starts = calls.map((c) => c.at).sort((a, b) => a - b);
  let busiest = 0;
  for (let i = 0, j = 0; i < starts.length; i++) {
    while (starts[i]! - starts[j]! >= 1000) j++;
    busiest = Math.max(busiest, i - j + 1);
  }
  expect(busiest).toBeLessThanOrEqual(RATE * 1.1);
  const edges = calls.flatMap((c) => [[c.at, 1], [c.at + c.durationMs, -1]] as const).sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let inFlight = 0;
  let most = 0;
  for (const [, d] of edges) most = Math.max(most, (inFlight += d));
  expect(most).toBeLessThanOrEqual(CONCURRENCY);

  // Nothing failed; a lookup by a short fingerprint (a SCAN) finds the record on whichever replica is asked.
  const client = new Cluster(cluster.nodes.map((n) => ({ host: n.host, port: n.port })), { lazyConnect: true });
  try {
    await client.connect();
    expect(await client.zcard('{trapi}:revocations:failed')).toBe(0);
    // Nothing under the untagged prefix (one EXISTS per key: they hash to different slots).
    for (const key of ['trapi:revocations:meta', 'trapi:intake:meta', `trapi:record:${fingerprint(tokens[0]!)}`]) expect(await client.exists(key)).toBe(0);
    for (const key of ['{trapi}:revocations:meta', '{trapi}:intake:meta', `{trapi}:record:${fingerprint(tokens[0]!)}`]) expect(await client.exists(key)).toBe(1);
  } finally {
    client.disconnect();
  }
  for (const [i, t] of tokens.slice(0, 10).entries()) {
    const res = await request(urls[i % 2]!).get(`/admin/tokens/${fingerprint(t).slice(0, 12)}`).set('Authorization', `Bearer ${ONCALL}`);
    expect(res.status).toBe(200);
  }
  for (const r of replicas) expect(r.child.exitCode).toBeNull();

  const answers = reports.flatMap((r) => r.answers);
  const non2xx = answers.filter((a) => a.status < 200 || a.status >= 300).length;
  const longest = reports.map((r) => r.longestOutage).sort((a, b) => b.ms - a.ms)[0]!;
  console.log(
    `cluster failover: ${tokens.length} tokens over 2 replicas, all accepted in ${acceptedMs} ms, 99% revoked in ${at99 - started} ms, all in ${revokedMs} ms; ${answers.length} answers, ${non2xx} non-2xx; ` +
      `longest non-2xx stretch ${longest.ms} ms (${longest.answers} answers); {trapi} master killed -> replica promoted ${times.promotedAt - times.killedAt} ms; ` +
      `GitLab saw at most ${busiest} calls in a second (limit ${RATE}), ${most} at once (limit ${CONCURRENCY})`,
  );
  for (const r of replicas) r.child.kill('SIGTERM');
  for (const r of replicas) expect(await r.exited()).toBe(0);
}, 240_000);
