// Credential breakers on a real Redis: one read answers the calls of BREAKER_READ_FRESH_MS, shared by those asking
// meanwhile; a process sees its own open and close at once, another process's within the freshness window.
import type { Redis } from 'ioredis';
import { RedisBreakers } from '../../src/queue/breakers.js';
import { KEYS } from '../../src/keys.js';
import { captureLogs } from '../support/logs.js';
import { startTestRedis, type TestRedis } from '../support/redis.js';

let redis: TestRedis;
let client: Redis;
const FRESH_MS = 300;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Calls of HKEYS on this Redis so far (INFO commandstats). */
async function hkeysCalls(): Promise<number> {
  return Number(/cmdstat_hkeys:calls=(\d+)/.exec(await client.info('commandstats'))?.[1] ?? 0);
}

beforeAll(async () => {
  redis = await startTestRedis();
  client = redis.client();
});
afterAll(async () => redis.stop());
beforeEach(async () => client.del(KEYS.breakers));

describe('credential breakers', () => {
  it('When many calls ask within the freshness window, then one HKEYS answers them all', async () => {
    const breakers = new RedisBreakers(client, captureLogs().logger, FRESH_MS);
    const before = await hkeysCalls();
    const answers = await Promise.all(Array.from({ length: 50 }, () => breakers.isOpen('gitlab:default:admin')));
    for (let i = 0; i < 20; i++) answers.push(await breakers.isOpen('gitlab:default:admin'));
    expect(answers.every((a) => a === false)).toBe(true);
    expect((await hkeysCalls()) - before).toBe(1);
    await sleep(FRESH_MS + 50);
    await breakers.isOpen('gitlab:default:admin');
    expect((await hkeysCalls()) - before).toBe(2);
  });

  it('When this process opens or closes a breaker, then its next question sees it at once, without waiting out the window', async () => {
    const breakers = new RedisBreakers(client, captureLogs().logger, 60_000);
    expect(await breakers.isOpen('gitlab:default:admin')).toBe(false);
    expect(await breakers.open('gitlab:default:admin', 'http_401')).toBe(true);
    expect(await breakers.isOpen('gitlab:default:admin')).toBe(true);
    expect(await breakers.isOpen('gitlab:other:admin')).toBe(false);
    expect(await breakers.close('gitlab:default:admin')).toBe(true);
    expect(await breakers.isOpen('gitlab:default:admin')).toBe(false);
  });

  it('When a read is under way as this process opens a breaker, then that read is not kept: the next question sees the breaker open', async () => {
    const breakers = new RedisBreakers(client, captureLogs().logger, 60_000);
    const early = breakers.isOpen('gitlab:default:admin'); // its HKEYS is sent before the HSETNX below
    await breakers.open('gitlab:default:admin', 'http_401');
    await early;
    expect(await breakers.isOpen('gitlab:default:admin')).toBe(true);
  });

  it('When another process opens or closes a breaker, then this one sees it within the freshness window', async () => {
    const here = new RedisBreakers(client, captureLogs().logger, FRESH_MS);
    const there = new RedisBreakers(redis.client(), captureLogs().logger, FRESH_MS);
    expect(await here.isOpen('github:token')).toBe(false);
    await there.open('github:token', 'http_401');
    const opened = Date.now();
    while (!(await here.isOpen('github:token'))) {
      expect(Date.now() - opened).toBeLessThan(FRESH_MS + 700);
      await sleep(10);
    }
    await there.close('github:token');
    const closed = Date.now();
    while (await here.isOpen('github:token')) {
      expect(Date.now() - closed).toBeLessThan(FRESH_MS + 700);
      await sleep(10);
    }
  });
});
