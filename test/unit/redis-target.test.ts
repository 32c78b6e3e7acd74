import { loadConfig } from '../../src/config/index.js';
import { minReplicasAck, redisTarget, type RedisTarget } from '../../src/config/redis-target.js';
import { ConfigError } from '../../src/errors.js';

function parse(env: Record<string, string>): { target: RedisTarget | undefined; problems: string[] } {
  const problems: string[] = [];
  const target = redisTarget((name) => env[name], problems);
  return { target, problems };
}

describe('redisTarget', () => {
  it('is undefined with no Redis variable (the embedded Redis)', () => {
    expect(parse({})).toEqual({ target: undefined, problems: [] });
  });

  it('is one Redis at REDIS_URL when neither sentinels nor a cluster are set', () => {
    expect(parse({ REDIS_URL: 'redis://:pw@redis.internal:6379' }).target).toEqual({ kind: 'single', url: 'redis://:pw@redis.internal:6379' });
  });

  it('reads sentinels, the default master name, and the data nodes\' credentials and TLS from REDIS_URL', () => {
    const { target, problems } = parse({ REDIS_SENTINELS: 's1:26379, s2:26380,[::1]:26381', REDIS_SENTINEL_PASSWORD: 'sentinel-secret', REDIS_URL: 'rediss://app:p%40ss@ignored:6379/2' });
    expect(problems).toEqual([]);
    expect(target).toEqual({
      kind: 'sentinel',
      sentinels: [{ host: 's1', port: 26379 }, { host: 's2', port: 26380 }, { host: '::1', port: 26381 }],
      name: 'mymaster',
      sentinelPassword: 'sentinel-secret',
      username: 'app',
      password: 'p@ss',
      tls: true,
      db: 2,
    });
  });

  it('takes REDIS_SENTINEL_MASTER as the master group name', () => {
    expect(parse({ REDIS_SENTINELS: 's1:26379', REDIS_SENTINEL_MASTER: 'trapi' }).target).toMatchObject({ kind: 'sentinel', name: 'trapi' });
  });

  it('reads cluster seed nodes, with the password of REDIS_URL and no TLS for redis://', () => {
    expect(parse({ REDIS_CLUSTER_NODES: 'r1:6379,r2:6379', REDIS_URL: 'redis://:pw@x:6379' }).target).toEqual({ kind: 'cluster', nodes: [{ host: 'r1', port: 6379 }, { host: 'r2', port: 6379 }], password: 'pw' });
  });

  it.each([
    [{ REDIS_SENTINELS: 's1:26379', REDIS_CLUSTER_NODES: 'r1:6379' }, 'REDIS_SENTINELS and REDIS_CLUSTER_NODES are both set; a Redis is either monitored by sentinels or a cluster: set one'],
    [{ REDIS_SENTINELS: 's1:26379,s2' }, 'REDIS_SENTINELS: "s2" is not host:port (e.g. redis-sentinel-1:26379, [::1]:26379)'],
    [{ REDIS_CLUSTER_NODES: 'r1:70000' }, 'REDIS_CLUSTER_NODES: "r1:70000" is not host:port (e.g. redis-sentinel-1:26379, [::1]:26379)'],
    [{ REDIS_CLUSTER_NODES: ' , ' }, 'REDIS_CLUSTER_NODES: expected a comma-separated list of host:port'],
    [{ REDIS_CLUSTER_NODES: 'r1:6379', REDIS_URL: 'redis://r:6379/3' }, 'REDIS_URL names database 3, but a Redis Cluster has only database 0'],
    [{ REDIS_SENTINELS: 's1:26379', REDIS_URL: 'redis://r:6379/zero' }, 'REDIS_URL: the path must be a database number'],
    [{ REDIS_URL: 'redis://r:6379', REDIS_SENTINEL_PASSWORD: 'x' }, 'REDIS_SENTINEL_PASSWORD is set without REDIS_SENTINELS'],
  ])('when %j, then it says: %s', (env, problem) => {
    expect(parse(env).problems).toContain(problem);
  });

  it('never quotes the sentinel or data node password in a problem', () => {
    const { problems } = parse({ REDIS_SENTINELS: 'bad', REDIS_SENTINEL_PASSWORD: 'sentinel-secret', REDIS_URL: 'redis://:data-secret@r:6379/x' });
    expect(problems.length).toBeGreaterThan(0);
    expect(problems.join('\n')).not.toMatch(/sentinel-secret|data-secret/);
  });
});

describe('minReplicasAck', () => {
  it('is auto when unset, else the number', () => {
    expect(minReplicasAck(() => undefined)).toBe('auto');
    expect(minReplicasAck((n) => (n === 'REDIS_MIN_REPLICAS_ACK' ? '0' : undefined))).toBe(0);
    expect(minReplicasAck((n) => (n === 'REDIS_MIN_REPLICAS_ACK' ? '2' : undefined))).toBe(2);
  });
});

describe('the REDIS_* variables in loadConfig', () => {
  const KEY = Buffer.alloc(32, 7).toString('base64');
  const production = { GITLAB_URL: 'https://gitlab.example.com', REVOCATION_API_TOKENS: 'a-long-shared-secret-1', TOKEN_ENCRYPTION_KEY: KEY };
  const problemsOf = (env: NodeJS.ProcessEnv): readonly string[] => {
    try {
      loadConfig(env);
      return [];
    } catch (err) {
      if (err instanceof ConfigError) return err.problems;
      throw err;
    }
  };

  it('are accepted when valid, and REDIS_MIN_REPLICAS_ACK must be a whole number from 0', () => {
    expect(problemsOf({ ...production, REDIS_SENTINELS: 's1:26379', REDIS_SENTINEL_PASSWORD: 'x', REDIS_MIN_REPLICAS_ACK: '1' })).toEqual([]);
    expect(problemsOf({ ...production, REDIS_MIN_REPLICAS_ACK: '-1' })).toEqual(['REDIS_MIN_REPLICAS_ACK: expected a whole number from 0 to 100 (got -1)']);
    expect(problemsOf({ ...production, REDIS_MIN_REPLICAS_ACK: 'one' })).toEqual(['REDIS_MIN_REPLICAS_ACK: expected a whole number from 0 to 100 (got "one")']);
  });

  it('give the Config one Redis target, kept with the secrets (never logged), and the replica setting', () => {
    const config = loadConfig({ ...production, REDIS_SENTINELS: 's1:26379,s2:26379', REDIS_SENTINEL_MASTER: 'trapi', REDIS_URL: 'redis://:data-secret@ignored:6379', REDIS_MIN_REPLICAS_ACK: '1' });
    expect(config.secrets.redis).toEqual({ kind: 'sentinel', sentinels: [{ host: 's1', port: 26379 }, { host: 's2', port: 26379 }], name: 'trapi', password: 'data-secret' });
    expect(config.minReplicasAck).toBe(1);
    expect(JSON.stringify(config)).not.toContain('data-secret');
    const cluster = loadConfig({ ...production, REDIS_CLUSTER_NODES: 'n1:6379' });
    expect(cluster.secrets.redis).toEqual({ kind: 'cluster', nodes: [{ host: 'n1', port: 6379 }] });
    expect(cluster.minReplicasAck).toBe('auto');
  });

  it('leave the target unset with none of them (the embedded Redis), and REDIS_URL alone is one Redis', () => {
    expect(loadConfig(production).secrets.redis).toBeUndefined();
    expect(loadConfig({ ...production, REDIS_URL: 'redis://r:6379' }).secrets.redis).toEqual({ kind: 'single', url: 'redis://r:6379' });
  });
});
