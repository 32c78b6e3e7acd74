// A private redis-server for the bench (free port, AOF everysec, data in a temp dir): never the machine's shared Redis.
// Optionally a replica of another one (`--replicaof`), for the cost of WAIT before 204.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { freePort } from '../src/runtime/free-port.js';
import { onCleanup, spawnChild } from './processes.js';

export interface BenchRedis {
  readonly url: string;
  readonly port: number;
  readonly client: Redis;
  readonly version: string;
}

/** Resolves once the server accepts connections; with `replicaOf`, once it is also in sync with that master. */
export async function startRedis(replicaOf?: BenchRedis): Promise<BenchRedis> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'trapi-bench-redis-'));
  onCleanup(() => rmSync(dir, { recursive: true, force: true }));
  // Production-like durability (AOF, fsync every second) so the service pays what it would pay in production; a
  // replica the same, as it would be once promoted. No diskless-sync delay: nothing else is going to attach.
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--appendonly', 'yes', '--appendfsync', 'everysec', '--save', '', '--maxmemory-policy', 'noeviction', '--repl-diskless-sync-delay', '0'];
  if (replicaOf) args.push('--replicaof', '127.0.0.1', String(replicaOf.port));
  const child = spawnChild(replicaOf ? 'redis-replica' : 'redis-server', 'redis-server', args);
  await child.waitForLine((l) => (l.includes('Ready to accept connections') ? true : undefined), 10_000);
  const url = `redis://127.0.0.1:${port}`;
  const client = new Redis(url, { maxRetriesPerRequest: 1 });
  client.on('error', () => undefined); // a dead Redis surfaces as a failed command, where it is handled
  onCleanup(() => client.disconnect());
  if (replicaOf) await child.waitForLine((l) => (l.includes('MASTER <-> REPLICA sync: Finished with success') ? true : undefined), 10_000);
  const info = await client.info('server');
  const version = /redis_version:(\S+)/.exec(info)?.[1] ?? 'unknown';
  return { url, port, client, version };
}
