// A private redis-server per test file: free port, data in a temp folder, never the machine's shared Redis.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { freePort } from '../../src/runtime/free-port.js';
import { clusterMode, startClusterTestRedis } from './cluster-redis.js';

export interface TestRedis {
  readonly url: string;
  readonly port: number;
  readonly dir: string;
  /** A plain client for assertions. */
  client(): Redis;
  /** Stops the server (SIGKILL unless `graceful`), keeping its data folder so `start()` can bring it back. */
  kill(graceful?: boolean): Promise<void>;
  start(): Promise<void>;
  stop(): Promise<void>;
}

/** One redis-server; a Redis Cluster instead under TEST_REDIS=cluster (test/support/cluster-redis.ts). */
export async function startTestRedis(): Promise<TestRedis> {
  if (clusterMode()) return startClusterTestRedis();
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'trapi-redis-'));
  const url = `redis://127.0.0.1:${port}`;
  let child: ChildProcess | undefined;
  const clients: Redis[] = [];

  const start = async () => {
    child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--appendonly', 'yes', '--save', '', '--maxmemory-policy', 'noeviction'], { stdio: 'ignore' });
    await new Promise<void>((resolve, reject) => {
      child?.once('spawn', resolve);
      child?.once('error', reject);
    });
    await waitForPing(url);
  };
  const kill = async (graceful = false) => {
    const c = child;
    if (!c || c.exitCode !== null) return;
    const exited = new Promise((r) => c.once('exit', r));
    c.kill(graceful ? 'SIGTERM' : 'SIGKILL');
    await exited;
  };
  await start();
  return {
    url,
    port,
    dir,
    client: () => {
      const c = new Redis(url, { maxRetriesPerRequest: 1 });
      c.on('error', () => undefined);
      clients.push(c);
      return c;
    },
    kill,
    start,
    stop: async () => {
      for (const c of clients) c.disconnect();
      await kill();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function waitForPing(url: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const c = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    c.on('error', () => undefined);
    try {
      await c.connect();
      await c.ping();
      return;
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 50));
    } finally {
      c.disconnect();
    }
  }
}
