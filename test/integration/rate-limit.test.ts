import request from 'supertest';
import { API_TOKEN, type TestService } from '../support/service.js';
import { useStack } from '../support/stack.js';

const stack = useStack({ replicas: 2, env: { ROLE: 'api', RATE_LIMIT_PER_MINUTE: '3', RATE_LIMIT_GET_PER_MINUTE: '5' } });

const post = (svc: TestService) => request(svc.url).post('/v1/revoke_tokens').set('Authorization', API_TOKEN).send([]);
const get = (svc: TestService) => request(svc.url).get('/v1/revocable_token_types').set('Authorization', API_TOKEN);

describe('inbound rate limits', () => {
  it('answers 429 with Retry-After and RateLimit headers once the POST budget, shared by replicas, is spent', async () => {
    expect((await post(stack.replica(0))).status).toBe(204);
    expect((await post(stack.replica(1))).status).toBe(204);
    const third = await post(stack.replica(0));
    expect(third.status).toBe(204);
    expect(third.headers['ratelimit-remaining']).toBe('0');
    const over = await post(stack.replica(1));
    expect(over.status).toBe(429);
    expect(over.body.error).toBe('rate_limited');
    expect(Number(over.headers['retry-after'])).toBeGreaterThan(0);
    expect(over.headers['ratelimit-limit']).toBe('3');
    expect(over.headers['ratelimit-remaining']).toBe('0');
  });

  it('keeps a separate, larger budget for GET', async () => {
    const answers = await Promise.all([get(stack.replica(0)), get(stack.replica(1)), get(stack.replica(0)), get(stack.replica(1)), get(stack.replica(0))]);
    expect(answers.map((r) => r.status)).toEqual([200, 200, 200, 200, 200]);
    expect((await get(stack.replica(1))).status).toBe(429);
  });

  it('keys budgets by credential: an unauthenticated caller is refused with 401, not counted against GitLab', async () => {
    const res = await request(stack.replica(0).url).post('/v1/revoke_tokens').set('Authorization', 'someone-else-entirely').send([]);
    expect(res.status).toBe(401);
  });
});

describe('Redis eviction policy', () => {
  it('warns at start-up when maxmemory-policy is not noeviction', async () => {
    const client = stack.redis.client();
    await client.config('SET', 'maxmemory-policy', 'allkeys-lru');
    const svc = await stack.startService({ ROLE: 'api' });
    await svc.stop();
    await client.config('SET', 'maxmemory-policy', 'noeviction');
    expect(svc.logs.records().some((r) => r['level'] === 40 && String(r['msg']).includes('maxmemory-policy is "allkeys-lru"'))).toBe(true);
    expect(stack.replica(0).logs.records().some((r) => String(r['msg']).includes('maxmemory-policy'))).toBe(false);
  });
});

describe('Redis compact encoding', () => {
  it('says at start-up which listpack limit of an external Redis is below what the embedded Redis sets, and nothing once both are', async () => {
    const about = (svc: TestService, name: string) => svc.logs.records().filter((r) => r['level'] === 30 && String(r['msg']).startsWith(`Redis ${name} is `));
    // The stack's redis-server runs on Redis's defaults (64).
    expect(about(stack.replica(0), 'hash-max-ziplist-value')).toHaveLength(1);
    expect(about(stack.replica(0), 'zset-max-ziplist-value')).toHaveLength(1);
    const client = stack.redis.client();
    await client.config('SET', 'hash-max-listpack-value', '1024');
    await client.config('SET', 'zset-max-listpack-value', '1024');
    try {
      const svc = await stack.startService({ ROLE: 'api' });
      await svc.stop();
      expect(about(svc, 'hash-max-ziplist-value')).toHaveLength(0);
      expect(about(svc, 'zset-max-ziplist-value')).toHaveLength(0);
    } finally {
      await client.config('SET', 'hash-max-listpack-value', '64');
      await client.config('SET', 'zset-max-listpack-value', '64');
    }
  });
});
