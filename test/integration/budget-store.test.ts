import type { Options } from 'express-rate-limit';
import type { Redis } from 'ioredis';
import { SharedBudgetStore } from '../../src/rate-limit/budget-store.js';
import { connect, producerConnection } from '../../src/queue/redis.js';
import { StoreUnavailableError } from '../../src/errors.js';
import { useStack } from '../support/stack.js';

const connections: Redis[] = [];
// Before the stack's afterAll (hooks run in order): the stores' connections close before their Redis stops.
afterAll(() => {
  for (const c of connections) c.disconnect();
});
const stack = useStack({ gitlab: false, service: false });

let n = 0;
/** A store on its own connection, made as the service makes it (fails fast when Redis is down). */
async function replica(prefix: string, limit: number, windowMs = 60_000): Promise<SharedBudgetStore> {
  const connection = producerConnection(stack.redis.url);
  connection.on('error', () => undefined);
  connections.push(connection);
  await connect(connection);
  const store = new SharedBudgetStore(connection, prefix);
  store.init({ limit, windowMs } as Options);
  return store;
}
const prefix = () => `test:rl:${++n}:`;

/** Scripts Redis has run so far: every call of the store is one. */
async function scriptCalls(): Promise<number> {
  const stats = await stack.client.info('commandstats');
  return ['evalsha', 'eval'].reduce((sum, cmd) => sum + Number(new RegExp(`cmdstat_${cmd}:calls=(\\d+)`).exec(stats)?.[1] ?? 0), 0);
}

async function hits(store: SharedBudgetStore, key: string, count: number): Promise<number[]> {
  const totals: number[] = [];
  for (let i = 0; i < count; i++) totals.push((await store.increment(key)).totalHits);
  return totals;
}

describe('SharedBudgetStore', () => {
  it('answers hits far from the limit without a Redis call each, and every hit reaches Redis', async () => {
    const p = prefix();
    const store = await replica(p, 1000); // local up to 500, at most 50 unacknowledged
    const before = await scriptCalls();
    const totals = await hits(store, 'client', 40);
    const calls = (await scriptCalls()) - before;
    expect(totals).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
    // The first hit of a window waits for Redis; the next 39 are sent together (at most one timed send in between).
    expect(calls).toBeLessThanOrEqual(2);
    await store.flush();
    expect(Number(await stack.client.get(`${p}client`))).toBe(40);
    expect(await stack.client.pttl(`${p}client`)).toBeGreaterThan(50_000);
  });

  it('makes every hit wait for Redis once 5% of the budget is unacknowledged', async () => {
    const p = prefix();
    const store = await replica(p, 100); // at most 5 unacknowledged
    const before = await scriptCalls();
    const totals = await hits(store, 'client', 30);
    const calls = (await scriptCalls()) - before;
    expect(totals).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
    // 1 exact hit, then runs of 5 local hits, each followed by an exact hit that carries them.
    expect(calls).toBeGreaterThanOrEqual(5);
    expect(calls).toBeLessThan(15);
    await store.flush();
    expect(Number(await stack.client.get(`${p}client`))).toBe(30);
  });

  it('waits for Redis on every hit with a small budget, so replicas share it exactly', async () => {
    const p = prefix();
    const [a, b] = [await replica(p, 3), await replica(p, 3)];
    const totals = [(await a.increment('k')).totalHits, (await b.increment('k')).totalHits, (await a.increment('k')).totalHits, (await b.increment('k')).totalHits];
    expect(totals).toEqual([1, 2, 3, 4]);
  });

  it('keeps replicas within 5% of the budget each, and counts every hit, when both are busy', async () => {
    const p = prefix();
    const [a, b] = [await replica(p, 200), await replica(p, 200)]; // local up to 100, at most 10 unacknowledged each
    const answers = await Promise.all([hits(a, 'k', 150), hits(b, 'k', 150)]);
    const admitted = answers.flat().filter((total) => total <= 200).length;
    expect(admitted).toBeGreaterThanOrEqual(200);
    expect(admitted).toBeLessThanOrEqual(200 + 2 * 10);
    await Promise.all([a.flush(), b.flush()]);
    expect(Number(await stack.client.get(`${p}k`))).toBe(300);
  });

  it('starts over when the window ends, in Redis and in its own view', async () => {
    const p = prefix();
    const store = await replica(p, 1000, 300);
    await hits(store, 'k', 10);
    await store.flush();
    await new Promise((r) => setTimeout(r, 400));
    const [first, second] = await hits(store, 'k', 2);
    expect(first).toBe(1);
    expect(second).toBe(2);
    await store.flush();
    expect(Number(await stack.client.get(`${p}k`))).toBe(2);
  });

  it('refuses a hit that must wait when Redis is down (a 503, never a free pass), and sends held hits once it is back', async () => {
    const p = prefix();
    const store = await replica(p, 1000);
    await hits(store, 'known', 1);
    await stack.redis.kill(true); // graceful: the count so far is kept on disk
    // A window this replica has not seen must wait for Redis: refused.
    await expect(store.increment('new-client')).rejects.toBeInstanceOf(StoreUnavailableError);
    // A known window far from its limit is still answered; its hits are held, not lost.
    expect((await store.increment('known')).totalHits).toBe(2);
    await store.flush();
    await stack.redis.start();
    const c = stack.redis.client();
    connections.push(c);
    let stored = 0;
    for (let i = 0; i < 100 && stored !== 2; i++) {
      await store.flush();
      stored = Number(await c.get(`${p}known`));
      if (stored !== 2) await new Promise((r) => setTimeout(r, 100));
    }
    expect(stored).toBe(2);
  });
});
