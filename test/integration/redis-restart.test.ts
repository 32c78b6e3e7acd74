// A Redis restart (SIGKILL, then the same port and AOF): the connections are back soon after Redis is, and the outbound
// limiter's leases of calls that ended while Redis was down do not keep their slots once it is back.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { freePort } from '../../src/runtime/free-port.js';
import { KEYS } from '../../src/keys.js';
import { RedisOutboundLimiter, outageWaitFor } from '../../src/queue/outbound-limiter.js';
import { connect, producerConnection, workerConnection } from '../../src/queue/redis.js';
import { startTestRedis, type TestRedis } from '../support/redis.js';

/** As src/providers.ts sizes it for GitLab's default timeout: 10 s + 5 s. */
const LEASE_MS = 15_000;
const ONE_SLOT = { perSecond: 1000, concurrency: 1 };

let redis: TestRedis;
let check: Redis;
const connections: Redis[] = [];

/** The service's limiter runs on the fail-fast producer connection (src/service.ts); `outageWaitMs` as src/providers.ts sizes it, or the default. */
function limiter(outageWaitMs?: number): { limiter: RedisOutboundLimiter; connection: Redis } {
  const connection = producerConnection(redis.url);
  connection.on('error', () => undefined);
  connections.push(connection);
  return { limiter: new RedisOutboundLimiter(connection, LEASE_MS, outageWaitMs), connection };
}

async function until(what: string, ok: () => Promise<boolean>, timeoutMs: number): Promise<number> {
  const start = performance.now();
  for (;;) {
    if (await ok()) return performance.now() - start;
    if (performance.now() - start > timeoutMs) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const leasesOf = (key: string) => check.zcard(KEYS.outboundLeases(key)).catch(() => -1);

beforeAll(async () => {
  redis = await startTestRedis();
  check = redis.client();
});

beforeEach(async () => {
  // Every write on disk before its answer, as the embedded Redis runs: the lease taken before the kill is in the AOF.
  await check.config('SET', 'appendfsync', 'always');
});

afterAll(async () => {
  for (const c of connections) c.disconnect();
  await redis.stop();
});

describe('connections across a Redis restart', () => {
  it('the producer and worker connections are ready again within a second of Redis answering, after a long outage', async () => {
    const producer = producerConnection(redis.url);
    const worker = workerConnection(redis.url);
    for (const c of [producer, worker]) {
      c.on('error', () => undefined);
      connections.push(c);
      await connect(c);
    }
    await redis.kill();
    // Long enough for the waits between attempts to grow: the former ones tried at 5.6 and 7.6 s (producer), 5 and
    // 7.5 s (worker), about 2 s after Redis is back.
    await new Promise((r) => setTimeout(r, 5600));
    await redis.start(); // resolves once it answers PING
    const ready = await Promise.all([producer, worker].map((c) => until('reconnected', async () => c.status === 'ready', 10_000)));
    expect(Math.max(...ready)).toBeLessThan(1000);
    expect(await worker.ping()).toBe('PONG');
    expect(await producer.ping()).toBe('PONG');
  }, 30_000);
});

/** A redis-server of its own, started with `extra` arguments; `ready` resolves once it has loaded its data. */
function ownRedis(port: number, dir: string, extra: readonly string[]): { proc: ChildProcess; ready: Promise<number> } {
  const proc = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--appendonly', 'yes', '--save', '', ...extra], { stdio: ['ignore', 'pipe', 'ignore'] });
  const ready = new Promise<number>((resolve) => {
    proc.stdout?.on('data', (chunk: Buffer) => {
      if (chunk.toString().includes('Ready to accept connections')) resolve(performance.now());
    });
  });
  return { proc, ready };
}

describe('connections to a Redis still loading its AOF', () => {
  it('are ready within a few hundred ms of the load ending, not a second later', async () => {
    const port = await freePort();
    const dir = mkdtempSync(join(tmpdir(), 'trapi-loading-'));
    let server = ownRedis(port, dir, []);
    await server.ready;
    const url = `redis://127.0.0.1:${port}`;
    const conns = [producerConnection(url), workerConnection(url)];
    try {
      for (const c of conns) {
        c.on('error', () => undefined);
        await connect(c);
      }
      // 5,000 keys in an RDB base file (BGREWRITEAOF), loaded 200 µs per key: about a second of loading, during
      // which Redis answers INFO (loading:1) between every 1 KB, so our connections find it loading.
      const pipe = conns[1]?.pipeline();
      for (let i = 0; i < 5000; i++) pipe?.set(`k${i}`, 'x'.repeat(1000));
      await pipe?.exec();
      await conns[1]?.bgrewriteaof();
      await until('the AOF rewritten', async () => /aof_rewrite_in_progress:0\r?\naof_rewrite_scheduled:0/.test((await conns[1]?.info('persistence')) ?? ''), 10_000);
      server.proc.kill('SIGKILL');
      await new Promise((r) => server.proc.once('exit', r));
      server = ownRedis(port, dir, ['--key-load-delay', '200', '--loading-process-events-interval-bytes', '1024']);
      await server.ready; // the load is over
      const ready = await Promise.all(conns.map((c) => until('reconnected', async () => c.status === 'ready', 10_000)));
      // ioredis's ready check waits Redis's loading estimate, or a whole second, before it asks again.
      expect(Math.max(...ready)).toBeLessThan(400);
    } finally {
      for (const c of conns) c.disconnect();
      server.proc.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    }
  }, 30_000);
});

describe('RedisOutboundLimiter across a Redis restart', () => {
  it('releases, once Redis is back, the lease of a call that ended while it was down: the next call takes the slot', async () => {
    const { limiter: a, connection } = limiter();
    await connect(connection);
    const key = 'restart-ended-during-outage';
    let finish = () => undefined as void;
    const ended = new Promise<void>((r) => (finish = r));
    const first = a.run(key, ONE_SLOT, () => ended);
    await until('the first call holds its lease', async () => (await leasesOf(key)) === 1, 2000);
    await redis.kill(); // SIGKILL: the ZREM of the call ending now cannot reach Redis
    finish();
    await first;
    await redis.start();
    await until('the limiter reconnects', async () => connection.status === 'ready', 10_000);
    // Without the retried release the lease would hold the only slot until it expires, LEASE_MS after it was taken.
    await until('the lease of the call that ended during the outage is released', async () => (await leasesOf(key)) === 0, 1000);
    const { limiter: b, connection: other } = limiter();
    await connect(other);
    const started = performance.now();
    await b.run(key, ONE_SLOT, async () => undefined);
    expect(performance.now() - started).toBeLessThan(2000);
  }, 30_000);

  it('a call asked for while Redis is down starts once Redis is back, instead of failing its attempt', async () => {
    const { limiter: a, connection } = limiter();
    await connect(connection);
    const key = 'restart-asked-during-outage';
    await redis.kill();
    let calls = 0;
    const asked = a.run(key, ONE_SLOT, async () => void calls++);
    await new Promise((r) => setTimeout(r, 1500));
    expect(calls).toBe(0);
    await redis.start();
    await asked;
    expect(calls).toBe(1);
    // Released as the caller resumes, not before (the limiter does not wait for Redis's answer to the release).
    await until('its lease is released', async () => (await leasesOf(key)) === 0, 1000);
  }, 30_000);

  it('a call asked for while Redis stays down fails after a bounded wait (its job then waits its retry backoff)', async () => {
    const { limiter: a, connection } = limiter();
    await connect(connection);
    await redis.kill();
    const started = performance.now();
    try {
      let calls = 0;
      await expect(a.run('restart-long-outage', ONE_SLOT, async () => void calls++)).rejects.toThrow();
      expect(calls).toBe(0);
      expect(performance.now() - started).toBeLessThan(8000);
    } finally {
      await redis.start();
    }
  }, 30_000);

  it('with a short job lock, a call asked for while Redis is down waits only a third of the lock: it never starts once its job may be another worker\'s', async () => {
    expect(outageWaitFor(30_000)).toBe(5000);
    expect(outageWaitFor(2000)).toBe(666);
    const { limiter: a, connection } = limiter(outageWaitFor(2000));
    await connect(connection);
    await redis.kill();
    const started = performance.now();
    try {
      let calls = 0;
      await expect(a.run('restart-short-lock', ONE_SLOT, async () => void calls++)).rejects.toThrow();
      const waited = performance.now() - started;
      expect(calls).toBe(0);
      expect(waited).toBeGreaterThanOrEqual(600);
      expect(waited).toBeLessThan(1000); // a third of the 2 s lock, not the 5 s of a 30 s one
    } finally {
      await redis.start();
    }
  }, 30_000);

  it('releases the lease of a slot whose answer was lost (the command timed out on our side, Redis took it later)', async () => {
    const { limiter: a, connection } = limiter();
    await connect(connection);
    const key = 'restart-lost-answer';
    // Redis holds every command for 3 s: the ACQUIRE times out after the producer's 2 s, then Redis runs it anyway.
    const pauser = redis.client();
    await pauser.call('CLIENT', 'PAUSE', '3000', 'ALL');
    await expect(a.run(key, ONE_SLOT, async () => undefined)).rejects.toThrow(/timed out/i);
    // Once Redis runs it, the lease of a caller that gave up would hold the only slot for LEASE_MS.
    await until('the lease of the caller that gave up is released', async () => (await leasesOf(key)) === 0 && (await check.exists(KEYS.outboundNext(key))) === 1, 3000);
    const started = performance.now();
    await a.run(key, ONE_SLOT, async () => undefined);
    expect(performance.now() - started).toBeLessThan(2000);
  }, 30_000);
});
