import type { Redis } from 'ioredis';
import { RedisOutboundLimiter } from '../../src/queue/outbound-limiter.js';
import { useStack } from '../support/stack.js';

const stack = useStack({ gitlab: false, service: false });
const clients: Redis[] = [];

/** One limiter per "worker process": each on its own connection, sharing the schedule through Redis. */
function processes(n: number): RedisOutboundLimiter[] {
  return Array.from({ length: n }, () => {
    const c = stack.redis.client();
    clients.push(c);
    return new RedisOutboundLimiter(c, 5000);
  });
}

let n = 0;
const instance = () => `test-instance-${++n}`;

describe('RedisOutboundLimiter', () => {
  it('spaces calls evenly at the rate, across processes: no burst at the start of a second', async () => {
    const [a, b] = processes(2);
    const key = instance();
    const limits = { perSecond: 50, concurrency: 40 }; // one call every 20 ms
    const starts: number[] = [];
    await Promise.all(Array.from({ length: 30 }, (_, i) => (i % 2 ? a : b)?.run(key, limits, async () => void starts.push(performance.now()))));
    starts.sort((x, y) => x - y);
    // Redis's clock schedules, each process sleeps on its own: a timer that fires late (a loaded machine: CI once saw
    // 11.5 ms) narrows the gap after it, but can only move a call into a later window, never make a burst. So: in any
    // 100 ms, the 5 slots it holds plus at most 2 late calls; a burst would put all 30 there.
    const inWindow = (t: number) => starts.filter((x) => x >= t && x < t + 100).length;
    expect(Math.max(...starts.map(inWindow))).toBeLessThanOrEqual(7);
    const span = (starts.at(-1) ?? 0) - (starts[0] ?? 0);
    expect(span).toBeGreaterThanOrEqual(29 * 20 - 10);
    expect(span).toBeLessThan(29 * 20 * 3); // not slower than the rate by much either
  });

  it('a stalled event loop does not turn the slots that passed meanwhile into a burst', async () => {
    const [a] = processes(1);
    if (!a) throw new Error('no limiter');
    const key = instance();
    // One call every 50 ms: a caller may start up to 50 ms after its slot, so a loaded host's ordinary timer lateness
    // passes; a stall beyond that is what is tested.
    const limits = { perSecond: 20, concurrency: 40 };
    const starts: number[] = [];
    const calls = Promise.all(Array.from({ length: 12 }, () => a.run(key, limits, async () => void starts.push(performance.now()))));
    // Every slot is reserved (12 × 50 ms is within the 1 s a slot may be reserved ahead), the callers sleep; then the
    // process stalls for 400 ms, as under a long GC pause, while 8 of those slots pass.
    await new Promise((r) => setTimeout(r, 5));
    const until = performance.now() + 400;
    while (performance.now() < until);
    await calls;
    starts.sort((x, y) => x - y);
    const inWindow = (t: number) => starts.filter((x) => x >= t && x < t + 100).length;
    // Waking all sleepers at once would start the ~8 overdue calls together; given up and asked for again, they start
    // in fresh slots 50 ms apart: in any 100 ms the 2 slots it holds, plus at most 2 within the lateness allowed.
    expect(starts).toHaveLength(12);
    expect(Math.max(...starts.map(inWindow))).toBeLessThanOrEqual(4);
  });

  it('keeps at most `concurrency` calls in flight, across processes', async () => {
    const [a, b] = processes(2);
    const key = instance();
    const limits = { perSecond: 1000, concurrency: 3 };
    let inFlight = 0;
    let most = 0;
    const slowCall = async () => {
      most = Math.max(most, ++inFlight);
      await new Promise((r) => setTimeout(r, 60));
      inFlight--;
    };
    await Promise.all(Array.from({ length: 12 }, (_, i) => (i % 2 ? a : b)?.run(key, limits, slowCall)));
    expect(most).toBe(3);
  });

  it('frees the slot of a call that threw, and keeps instances apart', async () => {
    const [a] = processes(1);
    if (!a) throw new Error('no limiter');
    const limits = { perSecond: 1000, concurrency: 1 };
    const key = instance();
    await expect(a.run(key, limits, async () => Promise.reject(new Error('GitLab failed')))).rejects.toThrow('GitLab failed');
    const started = performance.now();
    await a.run(key, limits, async () => undefined);
    await a.run(instance(), limits, async () => undefined);
    expect(performance.now() - started).toBeLessThan(500);
  });

  it('spaces a rate under one per second too (one call every 2 s at 0.5/s)', async () => {
    const [a] = processes(1);
    if (!a) throw new Error('no limiter');
    const key = instance();
    const starts: number[] = [];
    await Promise.all(Array.from({ length: 2 }, () => a.run(key, { perSecond: 0.5, concurrency: 5 }, async () => void starts.push(performance.now()))));
    expect(Math.abs((starts[1] ?? 0) - (starts[0] ?? 0))).toBeGreaterThan(1900);
  });
});

afterAll(() => {
  for (const c of clients) c.disconnect();
});
