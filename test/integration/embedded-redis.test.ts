// The embedded Redis keeps the service's small hashes compact: its listpack limits, on a fresh and an adopted server.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { startEmbeddedRedis } from '../../src/runtime/embedded-redis.js';
import { captureLogs } from '../support/logs.js';

const dataDir = mkdtempSync(join(tmpdir(), 'trapi-embedded-redis-'));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

const limits = async (url: string) => {
  const client = new Redis(url);
  try {
    return [((await client.config('GET', 'hash-max-listpack-value')) as string[])[1], ((await client.config('GET', 'zset-max-listpack-value')) as string[])[1]];
  } finally {
    client.disconnect();
  }
};

describe('the embedded Redis', () => {
  it('holds values up to 1,024 bytes in a compact hash or sorted set, also when adopted from an earlier run', async () => {
    const logs = captureLogs();
    const first = await startEmbeddedRedis(dataDir, logs.logger);
    try {
      expect(await limits(first.url)).toEqual(['1024', '1024']);
      // An earlier version's server, left running: Redis's defaults.
      const client = new Redis(first.url);
      await client.config('SET', 'hash-max-listpack-value', '64');
      client.disconnect();
      const adopted = await startEmbeddedRedis(dataDir, logs.logger);
      expect(adopted.url).toBe(first.url);
      expect(await limits(adopted.url)).toEqual(['1024', '1024']);
    } finally {
      await first.stop();
    }
  });
});
