// One accept measurement: autocannon against a target's POST /v1/revoke_tokens (warm-up, then the measured run), and
// the check that every acknowledged token is in Redis (and, with a replica, on the replica too).
import type { Redis } from 'ioredis';
import { INTAKE_QUEUE, KEY_PREFIX, QUEUE_NAME } from '../src/queue/jobs.js';
import { runLoad, type LoadResult } from './load.js';
import type { BenchRedis } from './redis.js';
import { errorCount, rowFailed, type Row } from './report.js';
import { API_TOKEN, type Target } from './targets.js';

export interface AcceptSettings {
  readonly seconds: number;
  readonly warmupSeconds: number;
  readonly connections: number;
}

/**
 * Sums the `count` of every waiting intake job (one job may hold several requests' tokens: the producer groups them),
 * plus the waiting revocation jobs (one per token: what a small group becomes before the `204`).
 */
const SUM_WAITING_COUNTS = `
local total = redis.call('LLEN', KEYS[2])
for _, id in ipairs(redis.call('LRANGE', KEYS[1], 0, -1)) do
  local data = redis.call('HGET', ARGV[1] .. id, 'data')
  if data then total = total + cjson.decode(data).count end
end
return total`;

/**
 * How many tokens the target put in Redis. The service: the tokens of its waiting intake and revocation jobs (ROLE=api:
 * no worker takes them; every request carries new tokens, so none is merged away). The bare server: its keys.
 */
async function stored(client: Redis, target: Target): Promise<number> {
  if (target.name === 'bare') return client.dbsize();
  const prefix = `${KEY_PREFIX}:${INTAKE_QUEUE}:`;
  // EVAL_RO: the script only reads, so it also runs on a read-only replica.
  return Number(await client.call('EVAL_RO', SUM_WAITING_COUNTS, 2, `${prefix}wait`, `${KEY_PREFIX}:${QUEUE_NAME}:wait`, prefix));
}

/**
 * Measures `target` at `tokensPerRequest` and empties `redis` afterwards. `label` names the row (default: the
 * target's name); with `replica`, the row also says how many acknowledged tokens the replica held right after the run.
 */
export async function measure(settings: AcceptSettings, redis: BenchRedis, target: Target, tokensPerRequest: number, label: string = target.name, replica?: BenchRedis): Promise<Row> {
  const load = (seconds: number): Promise<LoadResult> => runLoad({ url: target.url, apiToken: API_TOKEN, tokensPerRequest, seconds, connections: settings.connections });
  // Warm-up (JIT, connection pools, Redis memory) is discarded, except that its acknowledged tokens must be in Redis too.
  const warm = await load(settings.warmupSeconds);
  const result = await load(settings.seconds);
  const acknowledged = (warm.ok2xx + result.ok2xx) * tokensPerRequest;
  const onReplica = replica ? await stored(replica.client, target) : undefined;
  const row: Row = { tokensPerRequest, target: label, result, stored: await stored(redis.client, target), acknowledged, ...(onReplica === undefined ? {} : { replicaStored: onReplica }) };
  // Between runs, so memory stays bounded and every run starts from an empty Redis (a replica follows its master).
  await redis.client.flushall();
  const warmErrors = errorCount(warm);
  process.stdout.write(
    `  ${String(tokensPerRequest).padStart(3)} tokens/request  ${label.padEnd(14)}  ${Math.round(result.tokensPerS)} tokens/s, errors ${errorCount(result)}` +
      `${warmErrors ? ` (warm-up errors ${warmErrors})` : ''}, in Redis ${row.stored} of ${acknowledged} acknowledged` +
      `${onReplica === undefined ? '' : `, on the replica ${onReplica}`}${rowFailed(row) ? '  !! FAILED' : ''}\n`,
  );
  return row;
}
