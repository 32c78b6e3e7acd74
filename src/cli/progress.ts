// Progress of a long command (replay, rekey) on a terminal: `replayed 500/2000` on stderr, rewritten in place.
// Nothing when stderr is not a terminal (a pipe, a log file, a test) or with --json: the output stays what it was.
import type { Progress } from '../domain/ports.js';
import type { Context } from './types.js';

/** At most this often, so that a fast run does not flood a slow terminal; the final count is always written. */
const EVERY_MS = 200;

export function progressOf(ctx: Context, verb: string, now: () => number = Date.now): Progress | undefined {
  if (ctx.json || ctx.io.stderr.isTTY !== true) return undefined;
  let last = 0;
  let finished = false;
  return (done, total) => {
    if (finished || total === 0) return;
    const end = done >= total;
    if (!end && now() - last < EVERY_MS) return;
    last = now();
    finished = end;
    ctx.io.stderr.write(`\r${verb} ${done}/${total}${end ? '\n' : ''}`);
  };
}
