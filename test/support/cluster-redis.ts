// TEST_REDIS=cluster (`npm run test:cluster`): a suite's Redis is a Redis Cluster of three masters with a replica each
// (test/support/redis-ha.ts) instead of one redis-server, and the services it starts get REDIS_CLUSTER_NODES, so the
// same suites prove the service on a cluster. Everything else about a TestRedis holds: a client for assertions, and
// kill()/start() for "Redis goes away and comes back", which on a cluster is our master's failover.
import { Cluster, type Redis } from 'ioredis';
import { KEY_PREFIX, useKeyPrefixFor } from '../../src/keys.js';
import type { RedisTarget } from '../../src/config/redis-target.js';
import { ask, startCluster, type Node } from './redis-ha.js';
import type { TestRedis } from './redis.js';

export const clusterMode = (): boolean => process.env['TEST_REDIS'] === 'cluster';

/** REDIS_CLUSTER_NODES of each running test cluster, by the `url` its TestRedis gives (its first node's). */
const seedsByUrl = new Map<string, string>();

/** REDIS_CLUSTER_NODES for a TestRedis url that is a cluster's; undefined for a single redis-server. */
export const clusterNodesOf = (url: string): string | undefined => seedsByUrl.get(url);

/** The target a connection to this TestRedis url must be opened to (src/queue/redis.ts producerConnectionTo). */
export function targetOf(url: string): RedisTarget {
  const seeds = clusterNodesOf(url);
  return seeds === undefined ? { kind: 'single', url } : { kind: 'cluster', nodes: seeds.split(',').map(hostPort) };
}

/** A client of the cluster for assertions. Typed as Redis: a Cluster answers the key commands suites assert with. */
export function clusterClient(seeds: string): Redis {
  const c = new Cluster(seeds.split(',').map(hostPort), { scaleReads: 'master', redisOptions: { maxRetriesPerRequest: 1 } });
  c.on('error', () => undefined);
  return c as unknown as Redis;
}

const hostPort = (s: string) => ({ host: s.slice(0, s.lastIndexOf(':')), port: Number(s.slice(s.lastIndexOf(':') + 1)) });

export async function startClusterTestRedis(): Promise<TestRedis> {
  // As the service's composition root does on a cluster: every key this process builds carries the hash tag, so
  // helpers reading the service's keys, and stores the suites build themselves, use the service's slot.
  useKeyPrefixFor('cluster');
  const cluster = await startCluster();
  const seeds = cluster.nodes.map((n) => `${n.host}:${n.port}`).join(',');
  const first = cluster.nodes[0]!;
  const url = `redis://${first.host}:${first.port}`;
  seedsByUrl.set(url, seeds);
  const clients: Redis[] = [];
  let down: Node | undefined;
  return {
    url,
    port: first.port,
    dir: '',
    client: () => {
      const c = clusterClient(seeds);
      clients.push(c);
      return c;
    },
    // Redis gone means: the master holding our keys is gone. Its replica has what it acknowledged (a graceful stop
    // waits for the replica to catch up), and is promoted once the cluster sees the master fail.
    kill: async (graceful = false) => {
      down = await masterOfOurSlot(cluster.nodes);
      await down.stop(graceful);
    },
    // Back means: a master serves our slot again (the promoted replica), and the killed node rejoined as its replica.
    start: async () => {
      if (!down) return;
      const node = down;
      await until(async () => (await masterOfOurSlot(cluster.nodes).catch(() => undefined)) !== undefined && (await clusterOk(cluster.nodes)), 30_000, 'our slot served again');
      await node.start();
      await until(() => clusterOk(cluster.nodes), 30_000, 'the restarted node back in the cluster');
      down = undefined;
    },
    stop: async () => {
      for (const c of clients) c.disconnect();
      seedsByUrl.delete(url);
      await cluster.stop();
    },
  };
}

/** The running master that serves KEY_PREFIX's slot, as the running nodes see it; throws while none does. */
async function masterOfOurSlot(nodes: readonly Node[]): Promise<Node> {
  const running = nodes.filter((n) => n.running);
  const slot = await ask(running[0]!, (r) => r.cluster('KEYSLOT', KEY_PREFIX));
  for (const n of running) {
    const role = await ask(n, (r) => r.role()).catch(() => undefined);
    if ((role as unknown[] | undefined)?.[0] !== 'master') continue;
    const shards = (await ask(n, (r) => r.call('CLUSTER', 'SLOTS'))) as [number, number, [string, number, string]][];
    const owner = shards.find(([from, to]) => slot >= from && slot <= to)?.[2];
    if (owner && owner[1] === n.port) return n;
  }
  throw new Error(`no running master serves slot ${slot}`);
}

async function clusterOk(nodes: readonly Node[]): Promise<boolean> {
  const states = await Promise.all(nodes.filter((n) => n.running).map((n) => ask(n, (r) => r.cluster('INFO')).catch(() => '')));
  return states.every((s) => String(s).includes('cluster_state:ok'));
}

async function until(check: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`cluster: timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
