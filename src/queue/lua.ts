// Our Lua scripts inside MULTIs: sent by their SHA once a connection has seen them, not as source every time.
import type { ChainableCommander, Cluster, Redis } from 'ioredis';

export interface LuaScript {
  /** The ioredis command it is defined as on a connection (`defineCommand`). */
  readonly name: string;
  readonly lua: string;
  readonly keys: number;
}

/** Defines each script on `redis` (once per connection): every MULTI made on it can then send it by its SHA. */
export function defineScripts(redis: Redis | Cluster, scripts: readonly LuaScript[]): void {
  for (const s of scripts) if (!(s.name in redis)) redis.defineCommand(s.name, { numberOfKeys: s.keys, lua: s.lua });
}

/**
 * Queues `script` on `multi`: as the command defined on the multi's connection (EVALSHA, the source sent only with a
 * connection's first use of it), or as EVAL of its source where it is not defined (a multi made on another
 * connection). Either way the same script runs, in the same transaction.
 */
export function queueScript(multi: ChainableCommander, script: LuaScript, keys: readonly string[], args: ReadonlyArray<string | number>): void {
  const defined = (multi as unknown as Record<string, unknown>)[script.name];
  if (typeof defined === 'function') (defined as (...a: Array<string | number>) => unknown).call(multi, ...keys, ...args);
  else multi.eval(script.lua, keys.length, ...keys, ...args);
}
