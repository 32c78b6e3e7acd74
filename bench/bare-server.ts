// Baseline for the bench: the least a Node server can do per request (read, JSON.parse, one pipelined Redis round trip, 204).
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Redis } from 'ioredis';

const redisUrl = process.env['REDIS_URL'];
if (!redisUrl) {
  process.stderr.write('bare-server: REDIS_URL is required\n');
  process.exit(2);
}
const redis = new Redis(redisUrl, { maxRetriesPerRequest: 1 });
redis.on('error', (err: Error) => process.stderr.write(`bare-server: redis: ${err.message}\n`));

interface Item {
  readonly type?: unknown;
  readonly token?: unknown;
  readonly location?: unknown;
}

const server = createServer((req, res) => {
  if (req.method !== 'POST' || req.url !== '/v1/revoke_tokens') {
    res.writeHead(404).end();
    return;
  }
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    let items: Item[];
    try {
      const parsed: unknown = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      if (!Array.isArray(parsed)) throw new Error('not an array');
      items = parsed as Item[];
    } catch {
      res.writeHead(400).end();
      return;
    }
    // One write per token, all in one pipeline: a single Redis round trip per request, as the service aims for.
    const pipeline = redis.pipeline();
    for (const item of items) pipeline.hset(`bare:${String(item.token)}`, 'type', String(item.type), 'location', String(item.location ?? ''));
    pipeline.exec().then(
      (results) => {
        const failed = results?.some(([err]) => err !== null) ?? true;
        res.writeHead(failed ? 503 : 204).end();
      },
      () => res.writeHead(503).end(),
    );
  });
});

server.listen(Number(process.env['PORT'] ?? 0), process.env['HOST'] ?? '127.0.0.1', () => {
  const { port } = server.address() as AddressInfo;
  // The bench reads this line to learn the port.
  process.stdout.write(`${JSON.stringify({ msg: 'bare server started', url: `http://127.0.0.1:${port}` })}\n`);
});

const stop = () => {
  server.close();
  server.closeAllConnections();
  redis.quit().finally(() => process.exit(0));
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
