// Outbound limits per GitLab instance, shared by every worker process through Redis: a request rate and a concurrency cap.
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { OutboundLimiter } from '../../providers/contract.js';
import { KEY_PREFIX } from './jobs.js';

/**
 * One atomic step: drop expired leases; refuse if `concurrency` leases are held; count the call in the current
 * fixed window and refuse past `perWindow`; else take a lease. Returns 0 (go), or how many ms to wait before asking again.
 * Redis's clock is used so that replicas on skewed hosts share the same windows.
 */
const ACQUIRE = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local windowMs = tonumber(ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
if redis.call('ZCARD', KEYS[2]) >= tonumber(ARGV[3]) then return 5 end
local window = KEYS[1] .. ':' .. math.floor(now / windowMs)
local n = redis.call('INCR', window)
if n == 1 then redis.call('PEXPIRE', window, windowMs * 2) end
if n > tonumber(ARGV[2]) then return windowMs - (now % windowMs) end
redis.call('ZADD', KEYS[2], now + tonumber(ARGV[4]), ARGV[5])
return 0
`;

interface Acquiring {
  trapiAcquire(rateKey: string, leaseKey: string, windowMs: number, perWindow: number, concurrency: number, leaseMs: number, holder: string): Promise<number>;
}

export class RedisOutboundLimiter implements OutboundLimiter {
  constructor(
    private readonly redis: Redis,
    /** A lease outlives the longest call, so a crashed holder frees its slot by itself. */
    private readonly leaseMs: number,
  ) {
    if (!('trapiAcquire' in redis)) redis.defineCommand('trapiAcquire', { numberOfKeys: 2, lua: ACQUIRE });
  }

  async run<T>(key: string, limits: { perSecond: number; concurrency: number }, call: () => Promise<T>): Promise<T> {
    // Fractional rates (0.5/s) become one call per longer window.
    const windowMs = limits.perSecond >= 1 ? 1000 : Math.ceil(1000 / limits.perSecond);
    const perWindow = limits.perSecond >= 1 ? Math.floor(limits.perSecond) : 1;
    const leases = `${KEY_PREFIX}:outbound:${key}:leases`;
    const holder = randomBytes(8).toString('hex');
    for (;;) {
      const wait = await (this.redis as unknown as Acquiring).trapiAcquire(`${KEY_PREFIX}:outbound:${key}:rate`, leases, windowMs, perWindow, limits.concurrency, this.leaseMs, holder);
      if (wait === 0) break;
      await new Promise((r) => setTimeout(r, wait + Math.random() * 5));
    }
    try {
      return await call();
    } finally {
      await this.redis.zrem(leases, holder).catch(() => undefined); // the lease expires by itself otherwise
    }
  }
}
