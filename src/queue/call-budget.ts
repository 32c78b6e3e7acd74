// Call budgets per window shared by every process through Redis (a vendor's "N requests per hour"), and its "stop until".
import { randomBytes } from 'node:crypto';
import type { Cluster, Redis } from 'ioredis';
import type { CallBudget } from '../../providers/contract.js';
import { KEYS } from '../keys.js';

/**
 * One atomic step on Redis's clock: refuses while blocked ({1, ms left}); drops calls older than the window; refuses
 * when `limit` remain in it ({1, ms until the oldest leaves}); else records this call ({0, 0}). A sliding log, not a
 * fixed window: no window of `windowMs`, wherever it starts, ever holds more than `limit` calls.
 */
const TAKE = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local blocked = tonumber(redis.call('GET', KEYS[2]) or '0')
if blocked > now then return { 1, blocked - now } end
local window = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[1]) then
  local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
  return { 1, math.max(1, tonumber(oldest[2]) + window - now) }
end
redis.call('ZADD', KEYS[1], now, ARGV[3])
redis.call('PEXPIRE', KEYS[1], window)
return { 0, 0 }
`;

/** A block only ever grows: two replicas told different resets keep the later one. */
const BLOCK = `
local untilMs = tonumber(ARGV[1])
if untilMs > tonumber(redis.call('GET', KEYS[1]) or '0') then redis.call('SET', KEYS[1], ARGV[1], 'PXAT', ARGV[1]) end
return 0
`;

interface Scripts {
  trapiBudgetTake(calls: string, block: string, limit: number, windowMs: number, member: string): Promise<[number, number]>;
  trapiBudgetBlock(block: string, untilMs: number): Promise<number>;
}

export class RedisCallBudget implements CallBudget {
  constructor(private readonly redis: Redis | Cluster) {
    if (!('trapiBudgetTake' in redis)) redis.defineCommand('trapiBudgetTake', { numberOfKeys: 2, lua: TAKE });
    if (!('trapiBudgetBlock' in redis)) redis.defineCommand('trapiBudgetBlock', { numberOfKeys: 1, lua: BLOCK });
  }

  async take(key: string, limit: number, windowMs: number): Promise<{ ok: true } | { ok: false; retryAfterMs: number }> {
    const member = `${Date.now()}-${randomBytes(6).toString('hex')}`;
    const [refused, ms] = await this.#scripts.trapiBudgetTake(callsKey(key), blockKey(key), limit, windowMs, member);
    return refused === 0 ? { ok: true } : { ok: false, retryAfterMs: ms };
  }

  async block(key: string, untilMs: number): Promise<void> {
    await this.#scripts.trapiBudgetBlock(blockKey(key), Math.ceil(untilMs));
  }

  async usage(key: string, windowMs: number): Promise<{ used: number; blockedUntil: number | undefined }> {
    const [time, blocked] = await Promise.all([this.redis.time(), this.redis.get(blockKey(key))]);
    const now = Number(time[0]) * 1000 + Math.floor(Number(time[1]) / 1000);
    const used = await this.redis.zcount(callsKey(key), String(now - windowMs), '+inf');
    const until = blocked === null ? undefined : Number(blocked);
    return { used, blockedUntil: until !== undefined && until > now ? until : undefined };
  }

  get #scripts(): Scripts {
    return this.redis as unknown as Scripts;
  }
}

const callsKey = KEYS.budgetCalls;
const blockKey = KEYS.budgetBlocked;
