// Highly available Redis for tests: a Sentinel group (master, replica, three sentinels) or a six-node Cluster, all
// real redis-server processes on free loopback ports, with handles to SIGKILL a master and wait for its successor.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { freePort } from '../../src/runtime/free-port.js';

export interface Address {
  readonly host: string;
  readonly port: number;
}

/**
 * One redis-server process; `start()` brings it back with the same arguments (and data folder) after a stop, plus
 * `extra` (e.g. `--replicaof host port`, as an operator restarts a dead master behind sentinels: as a replica).
 */
export interface Node extends Address {
  readonly running: boolean;
  start(extra?: readonly string[]): Promise<void>;
  /** SIGKILL unless `graceful` (SIGTERM); resolves once the process is gone. */
  stop(graceful?: boolean): Promise<void>;
}

export interface SentinelGroup {
  /** Master group name the sentinels monitor. */
  readonly name: string;
  readonly sentinels: readonly Address[];
  /** The nodes as started: `master` stays the first master even after a failover. */
  readonly master: Node;
  readonly replica: Node;
  /** The address the sentinels give for the master now. */
  currentMaster(): Promise<Address>;
  /** Resolves once every sentinel sees its two peers and the replica up (after a replica restart, before a failover). */
  ready(): Promise<void>;
  /** Resolves once the replica has every write the master has (replication offsets equal). */
  waitForReplicaSync(): Promise<void>;
  /** Polls the sentinels until they name a master other than `old` that answers ROLE as master; returns it. */
  waitForNewMaster(old: Address, timeoutMs?: number): Promise<Address>;
  stop(): Promise<void>;
}

export interface TestCluster {
  /** Every node, masters and replicas, as seeds for a client. */
  readonly nodes: readonly Node[];
  /**
   * SIGKILLs one master (with `key`: the one serving that key's slot) and waits until its replica has taken over and
   * the cluster is `ok` again; returns both.
   */
  killMasterAndWaitForFailover(timeoutMs?: number, key?: string): Promise<{ killed: Node; promoted: Node }>;
  stop(): Promise<void>;
}

const HOST = '127.0.0.1';
/** Short enough that a failover takes a few seconds, long enough that a loaded CI machine does not fake one. */
const DOWN_AFTER_MS = 1500;
const FAILOVER_TIMEOUT_MS = 5000;
const CLUSTER_NODE_TIMEOUT_MS = 1500;
/** Redis 7 holds a diskless full sync 5 s for more replicas to join; every node may become a master, so none waits. */
const FAST_SYNC = ['--repl-diskless-sync-delay', '0'];
const run = promisify(execFile);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Master, one replica and three sentinels (quorum 2); resolves once every sentinel sees the replica and its peers. */
export async function startSentinelGroup(name = 'mymaster'): Promise<SentinelGroup> {
  const dir = mkdtempSync(join(tmpdir(), 'trapi-sentinel-'));
  const nodes: Node[] = [];
  try {
    const [masterPort, replicaPort, ...sentinelPorts] = await ports(5);
    const master = await startNode(dir, masterPort!, []);
    nodes.push(master);
    const replica = await startNode(dir, replicaPort!, ['--replicaof', HOST, String(masterPort)]);
    nodes.push(replica);
    await until(async () => (await info(replica, 'replication')).includes('master_link_status:up'), 10_000, 'replica in sync');
    const sentinels = await Promise.all(sentinelPorts.map((p) => startSentinel(dir, p!, name, masterPort!)));
    nodes.push(...sentinels);
    const ready = () => until(async () => (await Promise.all(sentinels.map((s) => sentinelSees(s, name)))).every(Boolean), 15_000, 'sentinels see each other and the replica');
    await ready();
    const group: SentinelGroup = {
      name,
      sentinels: sentinels.map(({ host, port }) => ({ host, port })),
      master,
      replica,
      ready,
      waitForReplicaSync: () => until(async () => {
        const now = await askSentinels(sentinels, name);
        const [primary, secondary] = now.port === master.port ? [master, replica] : [replica, master];
        const offset = (text: string, key: string) => /\d+/.exec(text.split('\n').find((l) => l.startsWith(`${key}:`)) ?? '')?.[0];
        const want = offset(await info(primary, 'replication'), 'master_repl_offset');
        return want !== undefined && offset(await info(secondary, 'replication'), 'slave_repl_offset') === want;
      }, 10_000, 'the replica to catch up'),
      currentMaster: () => askSentinels(sentinels, name),
      waitForNewMaster: async (old, timeoutMs = 30_000) => {
        let found: Address | undefined;
        await until(async () => {
          const now = await askSentinels(sentinels, name);
          if (now.port === old.port && now.host === old.host) return false;
          if (!(await isMaster(now))) return false;
          found = now;
          return true;
        }, timeoutMs, `a master other than ${old.host}:${old.port}`);
        return found!;
      },
      stop: () => stopAll(nodes, dir),
    };
    return group;
  } catch (err) {
    await stopAll(nodes, dir);
    throw err;
  }
}

/** Three masters with one replica each; resolves once every node says cluster_state:ok and each replica is in sync. */
export async function startCluster(): Promise<TestCluster> {
  const dir = mkdtempSync(join(tmpdir(), 'trapi-cluster-'));
  const nodes: Node[] = [];
  try {
    const clusterArgs = ['--cluster-enabled', 'yes', '--cluster-node-timeout', String(CLUSTER_NODE_TIMEOUT_MS), '--cluster-replica-validity-factor', '0'];
    nodes.push(...(await Promise.all((await ports(6)).map((p) => startNode(dir, p, [...clusterArgs, '--cluster-config-file', join(dir, `nodes-${p}.conf`)])))));
    await run('redis-cli', ['--cluster', 'create', ...nodes.map((n) => `${n.host}:${n.port}`), '--cluster-replicas', '1', '--cluster-yes'], { timeout: 30_000 });
    await until(async () => (await Promise.all(nodes.map(clusterHealthy))).every(Boolean), 20_000, 'cluster_state:ok with replicas in sync');
    return {
      nodes,
      killMasterAndWaitForFailover: async (timeoutMs = 30_000, key?: string) => {
        const view = await clusterNodes(nodes[0]!);
        const slot = key === undefined ? undefined : Number(await ask(nodes[0]!, (r) => r.cluster('KEYSLOT', key)));
        const victim = view.find((n) => n.master && n.slots && (slot === undefined || n.ranges.some(([from, to]) => slot >= from && slot <= to)))!;
        const heir = view.find((n) => n.masterId === victim.id)!;
        const killed = nodes.find((n) => n.port === victim.port)!;
        const promoted = nodes.find((n) => n.port === heir.port)!;
        await killed.stop();
        await until(async () => (await isMaster(promoted)) && (await Promise.all(nodes.filter((n) => n.running).map(clusterOk))).every(Boolean), timeoutMs, `replica ${heir.port} promoted`);
        return { killed, promoted };
      },
      stop: () => stopAll(nodes, dir),
    };
  } catch (err) {
    await stopAll(nodes, dir);
    throw err;
  }
}

async function ports(n: number): Promise<number[]> {
  // freePort() closes its socket before answering: ask for all at once and insist they differ.
  for (;;) {
    const got = await Promise.all(Array.from({ length: n }, () => freePort()));
    if (new Set(got).size === n) return got;
  }
}

async function startNode(dir: string, port: number, extra: readonly string[], sentinelConf?: string): Promise<Node> {
  const args = sentinelConf
    ? [sentinelConf, '--sentinel']
    : ['--port', String(port), '--bind', HOST, '--dir', dir, '--dbfilename', `dump-${port}.rdb`, '--save', '', '--appendonly', 'no', '--maxmemory-policy', 'noeviction', ...FAST_SYNC, ...extra];
  let child: ChildProcess | undefined;
  const node: Node = {
    host: HOST,
    port,
    get running() {
      return child !== undefined && child.exitCode === null && child.signalCode === null;
    },
    start: async (more: readonly string[] = []) => {
      child = spawn('redis-server', [...args, ...more], { stdio: 'ignore' });
      await new Promise<void>((resolve, reject) => {
        child?.once('spawn', resolve);
        child?.once('error', reject);
      });
      await until(() => ping(node), 10_000, `redis-server on ${port}`);
    },
    stop: async (graceful = false) => {
      const c = child;
      if (!c || c.exitCode !== null || c.signalCode !== null) return;
      const exited = new Promise((r) => c.once('exit', r));
      c.kill(graceful ? 'SIGTERM' : 'SIGKILL');
      await exited;
    },
  };
  await node.start();
  return node;
}

function startSentinel(dir: string, port: number, name: string, masterPort: number): Promise<Node> {
  // A sentinel rewrites its configuration file (epochs, known peers): each needs its own, writable.
  const conf = join(dir, `sentinel-${port}.conf`);
  writeFileSync(conf, [
    `port ${port}`,
    `bind ${HOST}`,
    `dir ${dir}`,
    `sentinel monitor ${name} ${HOST} ${masterPort} 2`,
    `sentinel down-after-milliseconds ${name} ${DOWN_AFTER_MS}`,
    `sentinel failover-timeout ${name} ${FAILOVER_TIMEOUT_MS}`,
    `sentinel parallel-syncs ${name} 1`,
    '',
  ].join('\n'));
  return startNode(dir, port, [], conf);
}

async function stopAll(nodes: readonly Node[], dir: string): Promise<void> {
  await Promise.all(nodes.map((n) => n.stop()));
  rmSync(dir, { recursive: true, force: true });
}

/** One short-lived connection per question, to one node: no reconnect loops left behind when a node is killed. */
export async function ask<T>(at: Address, fn: (r: Redis) => Promise<T>): Promise<T> {
  const r = new Redis({ host: at.host, port: at.port, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: 1000, commandTimeout: 1000, enableReadyCheck: false });
  r.on('error', () => undefined);
  try {
    await r.connect();
    return await fn(r);
  } finally {
    r.disconnect();
  }
}

async function ping(at: Address): Promise<boolean> {
  try {
    return (await ask(at, (r) => r.ping())) === 'PONG';
  } catch {
    return false;
  }
}

const info = (at: Address, section: string) => ask(at, (r) => r.info(section));

async function isMaster(at: Address): Promise<boolean> {
  try {
    return (await info(at, 'replication')).includes('role:master');
  } catch {
    return false;
  }
}

async function sentinelSees(sentinel: Address, name: string): Promise<boolean> {
  const [peers, replicas] = await ask(sentinel, async (r) => [
    (await r.call('SENTINEL', 'SENTINELS', name)) as unknown[],
    (await r.call('SENTINEL', 'REPLICAS', name)) as string[][],
  ] as const);
  return peers.length === 2 && replicas.length === 1 && !fieldOf(replicas[0]!, 'flags').includes('down');
}

function fieldOf(flat: readonly string[], key: string): string {
  const i = flat.indexOf(key);
  return i >= 0 ? (flat[i + 1] ?? '') : '';
}

/** The majority's answer is not needed: the test waits until the sentinel it reaches names a working master. */
async function askSentinels(sentinels: readonly Address[], name: string): Promise<Address> {
  for (const s of sentinels) {
    try {
      const reply = (await ask(s, (r) => r.call('SENTINEL', 'GET-MASTER-ADDR-BY-NAME', name))) as [string, string] | null;
      if (reply) return { host: reply[0], port: Number(reply[1]) };
    } catch {
      // this sentinel is unreachable: ask the next
    }
  }
  throw new Error('no sentinel answered');
}

interface ClusterNode {
  readonly id: string;
  readonly port: number;
  readonly master: boolean;
  readonly masterId: string | undefined;
  readonly connected: boolean;
  /** Serves hash slots (a master that was just assigned as a replica has none until gossip says it replicates). */
  readonly slots: boolean;
  /** The slot ranges it serves, inclusive. */
  readonly ranges: readonly (readonly [number, number])[];
}

async function clusterNodes(at: Address): Promise<ClusterNode[]> {
  const text = (await ask(at, (r) => r.call('CLUSTER', 'NODES'))) as string;
  return text.trim().split('\n').map((line) => {
    const [id, addr, flags, masterId, , , , link, ...slots] = line.split(' ');
    const roles = (flags ?? '').split(',');
    return {
      id: id!,
      port: Number((addr ?? '').split('@')[0]!.split(':').at(-1)),
      master: roles.includes('master') && !roles.includes('fail'),
      masterId: masterId === '-' ? undefined : masterId,
      connected: link === 'connected',
      slots: slots.length > 0,
      ranges: slots.filter((s) => /^\d/.test(s)).map((s) => {
        const [from, to] = s.split('-').map(Number);
        return [from!, to ?? from!] as const;
      }),
    };
  });
}

async function clusterOk(at: Address): Promise<boolean> {
  try {
    return ((await ask(at, (r) => r.call('CLUSTER', 'INFO'))) as string).includes('cluster_state:ok');
  } catch {
    return false;
  }
}

/** `ok`, six connected nodes, and (on a replica) its link to the master up, so a failover has data to promote. */
async function clusterHealthy(at: Address): Promise<boolean> {
  if (!(await clusterOk(at))) return false;
  const view = await clusterNodes(at);
  if (view.length !== 6 || !view.every((n) => n.connected)) return false;
  // Every node's view agrees on the final shape: three slot-serving masters, each with one replica.
  const masters = view.filter((n) => n.master && n.slots);
  if (masters.length !== 3 || !masters.every((m) => view.some((r) => r.masterId === m.id))) return false;
  const replication = await info(at, 'replication');
  return replication.includes('role:master') || replication.includes('master_link_status:up');
}

async function until(check: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      if (await check()) return;
    } catch {
      // not there yet
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(100);
  }
}
