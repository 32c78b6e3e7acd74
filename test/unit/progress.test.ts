// trapi's progress line: only on a terminal, never with --json, at most every 200 ms, the final count always.
import { progressOf } from '../../src/cli/progress.js';
import type { Context } from '../../src/cli/types.js';

function ctx(tty: boolean, json = false): { ctx: Context; out: () => string } {
  let err = '';
  const c = {
    io: { stdout: { write: () => true }, stderr: { write: (t: string) => (err += t), isTTY: tty }, stdin: process.stdin, env: {} },
    values: {},
    positionals: [],
    json,
    ops: () => Promise.reject(new Error('unused')),
    tokenTypes: () => Promise.resolve([]),
  } as unknown as Context;
  return { ctx: c, out: () => err };
}

it('rewrites one line in place, at most every 200 ms, and ends it with the full count', () => {
  let now = 1_000;
  const { ctx: c, out } = ctx(true);
  const p = progressOf(c, 'replayed', () => now);
  expect(p).toBeDefined();
  for (let done = 0; done <= 2000; done += 100) {
    p?.(done, 2000);
    now += 60;
  }
  const updates = out().split('\r').filter(Boolean);
  expect(updates[updates.length - 1]).toBe('replayed 2000/2000\n');
  expect(updates.length).toBeGreaterThan(3);
  expect(updates.length).toBeLessThan(21); // throttled: not one per call
  expect(updates.slice(0, -1).every((u) => /^replayed \d+\/2000$/.test(u))).toBe(true);
  p?.(2000, 2000);
  expect(out().split('\r').filter(Boolean)).toHaveLength(updates.length); // the end is written once
});

it('is silent when stderr is not a terminal, with --json, and for nothing to do', () => {
  expect(progressOf(ctx(false).ctx, 'replayed')).toBeUndefined();
  expect(progressOf(ctx(true, true).ctx, 'replayed')).toBeUndefined();
  const { ctx: c, out } = ctx(true);
  progressOf(c, 'replayed')?.(0, 0);
  expect(out()).toBe('');
});
