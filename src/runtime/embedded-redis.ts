// With no REDIS_URL: a private redis-server child (append-only, noeviction, password, compact small hashes) under
// DATA_DIR, stopped on exit.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { AppError } from '../errors.js';
import type { Logger } from '../logger.js';
import { freePort } from './free-port.js';

export interface EmbeddedRedis {
  readonly url: string;
  stop(): Promise<void>;
}

/**
 * Redis keeps a hash or sorted set in its compact encoding (a listpack) only while every value is at most 64 bytes by
 * default. A queued job's hash holds its data and options as JSON of some 200-400 bytes, and a token's record holds
 * locations and event details longer than 64: each would cost a hash table instead, about 400 bytes more per waiting
 * token (`npm run bench`, memory section, prints both). The entry counts keep their defaults (128), so that a big
 * set (BullMQ's delayed and wait sets) is never a listpack. README, "Redis", tells an external Redis's operator.
 * The `ziplist` names are the aliases that Redis 6 and 7 both accept.
 */
export const COMPACT_ENCODING: Readonly<Record<string, string>> = { 'hash-max-ziplist-value': '1024', 'zset-max-ziplist-value': '1024' };

interface Handle {
  port: number;
  pid: number;
  password: string;
}

export const REDIS_MISSING =
  'redis-server was not found on PATH. Either set REDIS_URL to an existing Redis (redis://host:6379), ' +
  'or install Redis: Debian/Ubuntu `sudo apt-get install -y redis-server`, macOS `brew install redis`.';

/**
 * Starts redis-server on a free loopback port with its data in `<dataDir>/redis`. If a previous run was killed and
 * left its redis-server running, that one is adopted (found through `redis.json`), so no data is stranded.
 */
export async function startEmbeddedRedis(dataDir: string, logger: Logger): Promise<EmbeddedRedis> {
  const dir = join(dataDir, 'redis');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const handleFile = join(dir, 'redis.json');
  const adopted = await adopt(handleFile, dir);
  if (adopted) logger.warn({ pid: adopted.pid, port: adopted.port }, 'adopted the embedded redis-server left running by a previous run');
  const handle = adopted ?? (await launch(dir, logger));
  // Set on the running server, so that one adopted from an earlier version gets them too (they only shape new writes).
  // One setting per CONFIG SET: Redis 6 takes no more.
  const url = `redis://:${handle.password}@127.0.0.1:${handle.port}`;
  const set = await once(url, 1000, async (c) => {
    for (const [name, value] of Object.entries(COMPACT_ENCODING)) await c.config('SET', name, value);
    return true;
  });
  if (!set) logger.warn({ settings: COMPACT_ENCODING }, 'could not set the embedded Redis\'s compact-encoding limits: it works, using more memory per token');
  writeFileSync(handleFile, JSON.stringify(handle), { mode: 0o600 });
  logger.info({ port: handle.port, dir }, 'embedded redis-server ready (append-only persistence)');
  return {
    url,
    stop: async () => {
      await shutdown(url);
      rmSync(handleFile, { force: true });
    },
  };
}

/** The URL of the embedded Redis a running service started from `dataDir`, for the CLI; undefined when none is recorded. */
export function embeddedRedisUrl(dataDir: string): string | undefined {
  try {
    const handle = JSON.parse(readFileSync(join(dataDir, 'redis', 'redis.json'), 'utf8')) as Handle;
    return `redis://:${handle.password}@127.0.0.1:${handle.port}`;
  } catch {
    return undefined;
  }
}

async function launch(dir: string, logger: Logger): Promise<Handle> {
  const port = await freePort();
  const password = randomBytes(24).toString('hex');
  const args = [
    '--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--requirepass', password,
    '--appendonly', 'yes', '--appendfsync', 'always', '--save', '',
    '--maxmemory-policy', 'noeviction', '--logfile', 'redis.log', '--daemonize', 'no',
  ];
  // Detached: an interrupt sent to our process group must not kill Redis before we have drained into it.
  const child = spawn('redis-server', args, { stdio: 'ignore', detached: true });
  await new Promise<void>((resolve, reject) => {
    child.once('spawn', resolve);
    child.once('error', (err: NodeJS.ErrnoException) => reject(err.code === 'ENOENT' ? new AppError('redis_missing', REDIS_MISSING) : err));
  });
  child.unref();
  await waitUntilUp(`redis://:${password}@127.0.0.1:${port}`, child, dir);
  logger.debug({ pid: child.pid }, 'redis-server started');
  return { port, pid: child.pid ?? 0, password };
}

async function adopt(handleFile: string, dir: string): Promise<Handle | undefined> {
  let handle: Handle;
  try {
    handle = JSON.parse(readFileSync(handleFile, 'utf8')) as Handle;
  } catch {
    return undefined;
  }
  const liveDir = await once(`redis://:${handle.password}@127.0.0.1:${handle.port}`, 1000, async (c) => ((await c.config('GET', 'dir')) as string[])[1]);
  return liveDir === dir ? handle : undefined;
}

async function waitUntilUp(url: string, child: ChildProcess, dir: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) break;
    if ((await once(url, 500, (c) => c.ping())) === 'PONG') return;
    await new Promise((r) => setTimeout(r, 100));
  }
  child.kill('SIGKILL');
  throw new AppError('redis_failed', `embedded redis-server did not start; see ${join(dir, 'redis.log')}`);
}

/** SHUTDOWN makes Redis fsync its append-only file before it exits; the connection closing is the success signal. */
async function shutdown(url: string): Promise<void> {
  await once(url, 1000, (c) => c.call('SHUTDOWN').catch(() => undefined));
}

/** One command exchange on a short-lived connection that never retries: undefined if Redis is not there. */
async function once<T>(url: string, connectTimeout: number, use: (client: Redis) => Promise<T>): Promise<T | undefined> {
  const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout });
  client.on('error', () => undefined);
  try {
    await client.connect();
    return await use(client);
  } catch {
    return undefined;
  } finally {
    client.disconnect();
  }
}
