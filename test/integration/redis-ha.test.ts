// Highly available Redis with real processes: connections and BullMQ follow a Sentinel failover and run on a Cluster;
// WAIT counts the replicas that acknowledged a write.
import { Queue, Worker } from 'bullmq';
import type { RedisTarget } from '../../src/config/redis-target.js';
import type { Cluster, Redis } from 'ioredis';
import { connect, connectedReplicas, masterFor, producerConnectionTo, waitForReplicas, workerConnectionTo, type RedisClient } from '../../src/queue/redis.js';
import { startCluster, startSentinelGroup, type SentinelGroup, type TestCluster } from '../support/redis-ha.js';

const LONG = 120_000; // a failover takes seconds, and this machine may be loaded
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const timed = process.env['HA_TIMINGS'] === '1' ? (what: string, ms: number) => process.stderr.write(`${what}: ${(ms / 1000).toFixed(2)} s\n`) : () => undefined;

/** Polls `check` every 50 ms until it holds, or fails naming `what`. */
async function eventually(check: () => Promise<boolean> | boolean, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

/** As GitLab does with a batch answered 503: send again until accepted (the job id makes a resend a no-op). */
async function addUntilAccepted(queue: Queue, id: string): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      await queue.add('job', { id }, { jobId: id });
      return;
    } catch (err) {
      if (attempt > 300) throw err;
      await sleep(100);
    }
  }
}

function quiet<T extends { on(event: 'error', fn: (err: Error) => void): unknown }>(x: T): T {
  x.on('error', () => undefined); // a failover is expected to break connections; the test asserts the outcome
  return x;
}

const ids = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `${prefix}-${i}`);

describe('Redis Sentinel', () => {
  let group: SentinelGroup;
  let target: RedisTarget;
  const clients: RedisClient[] = [];
  const open = (c: RedisClient) => {
    clients.push(quiet(c));
    return c;
  };

  beforeAll(async () => {
    const t0 = Date.now();
    group = await startSentinelGroup();
    timed('sentinel group start', Date.now() - t0);
    target = { kind: 'sentinel', sentinels: group.sentinels, name: group.name };
  }, LONG);
  afterAll(async () => {
    for (const c of clients) c.disconnect();
    await group?.stop();
  });

  describe('waitForReplicas and connectedReplicas', () => {
    it('count the replica while it streams, and 0 within the timeout while it is stopped', async () => {
      const redis = open(producerConnectionTo(target)) as Redis;
      await connect(redis);
      expect(await connectedReplicas(redis)).toBe(1);
      await redis.set('ha:wait', '1');
      expect(await waitForReplicas(redis, 1, 1000)).toBe(1);

      await group.replica.stop();
      await eventually(async () => (await connectedReplicas(redis)) === 0, 'the master to notice the replica is gone', 5000);
      await redis.set('ha:wait', '2');
      const t0 = Date.now();
      expect(await waitForReplicas(redis, 1, 500)).toBe(0);
      const took = Date.now() - t0;
      expect(took).toBeGreaterThanOrEqual(450);
      expect(took).toBeLessThan(1500);

      await group.replica.start();
      await eventually(async () => (await connectedReplicas(redis)) === 1, 'the replica to stream again', 15_000);
      await redis.set('ha:wait', '3');
      expect(await waitForReplicas(redis, 1, 1000)).toBe(1);
      await group.ready(); // the next test fails over to this replica: every sentinel must see it up again
    }, LONG);

    it('ask nothing of Redis when no replica is required', async () => {
      const redis = open(producerConnectionTo(target)) as Redis;
      await connect(redis);
      expect(await waitForReplicas(redis, 0, 1000)).toBe(0);
    });
  });

  it('BullMQ processes every job exactly once, added before and after the master is SIGKILLed, without a restart', async () => {
    const producer = open(producerConnectionTo(target));
    await connect(producer);
    const queue = quiet(new Queue('ha-sentinel', { connection: producer, skipWaitingForReady: true }));
    const seen = new Map<string, number>();
    const worker = quiet(new Worker('ha-sentinel', async (job) => void seen.set(String(job.data.id), (seen.get(String(job.data.id)) ?? 0) + 1), {
      connection: open(workerConnectionTo(target)),
      concurrency: 10,
      // A job left active by the dead master is picked up after this long (not the default 30 s).
      lockDuration: 5000,
      stalledInterval: 2000,
    }));
    try {
      const warmUp = ids('warm', 20);
      for (const id of warmUp) await queue.add('job', { id }, { jobId: id });
      await eventually(() => warmUp.every((id) => seen.has(id)), 'warm-up jobs');

      // Held in the queue across the failover, so the new master's replica of them is what gets processed.
      await queue.pause();
      const before = ids('before', 50);
      for (const id of before) await queue.add('job', { id }, { jobId: id });
      // As before a 204: the replica acknowledged the adds (on the connection that made them)...
      expect(await waitForReplicas(producer as Redis, 1, 2000)).toBe(1);
      // ...and the worker's completions of the warm-up jobs, which nothing WAITs for, have reached it too.
      await group.waitForReplicaSync();

      const old = await group.currentMaster();
      const t0 = Date.now();
      await group.master.stop();
      const after = ids('after', 50);
      const adding = Promise.all(after.map((id) => addUntilAccepted(queue, id)));
      const promoted = await group.waitForNewMaster(old);
      timed('sentinel failover (SIGKILL to new master)', Date.now() - t0);
      expect(promoted.port).toBe(group.replica.port);
      await adding;
      timed('sentinel failover (SIGKILL to all 50 adds accepted)', Date.now() - t0);
      await eventually(async () => {
        try {
          await queue.resume();
          return true;
        } catch {
          return false;
        }
      }, 'resume on the new master');

      const all = [...warmUp, ...before, ...after];
      await eventually(() => all.every((id) => seen.has(id)), 'every job processed', 60_000);
      timed('sentinel failover (SIGKILL to all jobs processed)', Date.now() - t0);
      await sleep(3000); // a stalled-job check or a late retry would process one again now
      expect([...seen.entries()].filter(([, n]) => n !== 1)).toEqual([]);
      expect(seen.size).toBe(all.length);
      expect(await queue.getJobCounts('completed', 'failed', 'wait', 'active')).toEqual({ completed: all.length, failed: 0, wait: 0, active: 0 });
    } finally {
      await worker.close();
      await queue.close();
    }
  }, LONG);
});

describe('Redis Cluster', () => {
  let cluster: TestCluster;
  let target: RedisTarget;
  const clients: RedisClient[] = [];

  beforeAll(async () => {
    const t0 = Date.now();
    cluster = await startCluster();
    timed('cluster start', Date.now() - t0);
    target = { kind: 'cluster', nodes: cluster.nodes.slice(0, 3).map(({ host, port }) => ({ host, port })) };
  }, LONG);
  afterAll(async () => {
    for (const c of clients) c.disconnect();
    await cluster?.stop();
  });

  it('passes dnsLookup through, and WAITs on the master of the {trapi} slot', async () => {
    const names = cluster.nodes.slice(0, 3).map((n, i) => ({ host: `seed-${i}.trapi.test`, port: n.port }));
    const lookups: string[] = [];
    const redis = quiet(producerConnectionTo({ kind: 'cluster', nodes: names }, {
      dnsLookup: (host, callback) => {
        lookups.push(host);
        callback(null, '127.0.0.1');
      },
    })) as Cluster;
    clients.push(redis);
    await connect(redis);
    expect(lookups.length).toBeGreaterThan(0);
    await redis.set('{trapi}:ha:wait', '1');
    const master = await masterFor(redis, '{trapi}:ha:wait');
    expect(await connectedReplicas(master)).toBe(1);
    expect(await waitForReplicas(master, 1, 1000)).toBe(1);
  }, LONG);

  it('BullMQ adds and processes jobs under the hash-tagged prefix {trapi}, also after a master is SIGKILLed', async () => {
    const producer = quiet(producerConnectionTo(target));
    clients.push(producer);
    await connect(producer);
    // BullMQ's scripts touch several keys of a queue at once: the hash tag puts them all in one slot.
    const queue = quiet(new Queue('ha-cluster', { connection: producer, prefix: '{trapi}', skipWaitingForReady: true }));
    const seen = new Map<string, number>();
    const connection = quiet(workerConnectionTo(target));
    clients.push(connection);
    const worker = quiet(new Worker('ha-cluster', async (job) => void seen.set(String(job.data.id), (seen.get(String(job.data.id)) ?? 0) + 1), {
      connection,
      prefix: '{trapi}',
      concurrency: 10,
      lockDuration: 5000,
      stalledInterval: 2000,
    }));
    try {
      const first = ids('first', 50);
      for (const id of first) await queue.add('job', { id }, { jobId: id });
      await eventually(() => first.every((id) => seen.has(id)), 'jobs processed on the cluster');

      const t0 = Date.now();
      const { killed } = await cluster.killMasterAndWaitForFailover();
      timed(`cluster failover of ${killed.port} (SIGKILL to promoted, cluster ok)`, Date.now() - t0);
      const second = ids('second', 50);
      await Promise.all(second.map((id) => addUntilAccepted(queue, id)));
      await eventually(() => second.every((id) => seen.has(id)), 'jobs processed after the failover', 60_000);
      timed('cluster failover (SIGKILL to all jobs processed)', Date.now() - t0);
      expect([...seen.values()].every((n) => n === 1)).toBe(true);
      expect(seen.size).toBe(first.length + second.length);
    } finally {
      await worker.close();
      await queue.close();
    }
  }, LONG);
});
