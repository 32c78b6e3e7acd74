// Dumps every key and value of a Redis (all types, as raw bytes), so tests can prove a secret appears nowhere.
import type { Redis } from 'ioredis';

export async function dumpRedis(client: Redis): Promise<Buffer> {
  const parts: Buffer[] = [];
  let cursor = '0';
  do {
    const [next, keys] = await client.scanBuffer(cursor, 'COUNT', 1000);
    cursor = next.toString();
    for (const key of keys) {
      parts.push(key);
      const type = await client.type(key);
      if (type === 'string') parts.push((await client.getBuffer(key)) ?? Buffer.alloc(0));
      else if (type === 'hash') parts.push(...Object.entries(await client.hgetallBuffer(key)).flatMap(([k, v]) => [Buffer.from(k), v]));
      else if (type === 'list') parts.push(...(await client.lrangeBuffer(key, 0, -1)));
      else if (type === 'set') parts.push(...(await client.smembersBuffer(key)));
      else if (type === 'zset') parts.push(...(await client.zrangeBuffer(key, '0', '-1')));
      else if (type === 'none') continue; // expired since the SCAN
      else if (type === 'stream') parts.push(...(await client.xrangeBuffer(key, '-', '+')).flatMap(([id, fields]) => [id, ...fields]));
      else throw new Error(`unexpected Redis type ${type}`);
    }
  } while (cursor !== '0');
  return Buffer.concat(parts.flatMap((p) => [p, Buffer.from('\n')]));
}
