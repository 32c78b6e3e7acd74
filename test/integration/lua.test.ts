// src/queue/lua.ts against a real Redis: a script in a MULTI goes by its SHA where it is defined, as source elsewhere.
import { defineScripts, queueScript, type LuaScript } from '../../src/queue/lua.js';
import { KEY_PREFIX, nodeOfKeys } from '../../src/keys.js';
import { execAll } from '../../src/queue/records.js';
import { useStack } from '../support/stack.js';

const stack = useStack({ gitlab: false, service: false });

const INCR_BY: LuaScript = { name: 'trapiTestIncrBy', keys: 1, lua: "return redis.call('INCRBY', KEYS[1], ARGV[1])" };
const key = `${KEY_PREFIX}:test:lua`;

/** How often Redis ran EVAL and EVALSHA so far (on a cluster: the node of our slot). */
async function calls(): Promise<{ eval: number; evalsha: number }> {
  const stats = await (await nodeOfKeys(stack.client)).info('commandstats');
  const n = (cmd: string) => Number(new RegExp(`cmdstat_${cmd}:calls=(\\d+)`).exec(stats)?.[1] ?? 0);
  return { eval: n('eval'), evalsha: n('evalsha') };
}

describe('queueScript', () => {
  it('sends a script defined on the connection by its SHA after the first time, and one that is not as its source, with the same effect', async () => {
    const defined = stack.redis.client();
    const plain = stack.redis.client();
    try {
      await defined.del(key);
      defineScripts(defined, [INCR_BY]);
      const run = async (on: typeof defined, by: number) => {
        const multi = on.multi();
        queueScript(multi, INCR_BY, [key], [by]);
        return (await execAll(multi))[0];
      };
      expect(await run(defined, 2)).toBe(2); // the connection's first use: sent with its source, then known by SHA
      const before = await calls();
      expect(await run(defined, 3)).toBe(5);
      expect(await run(defined, 4)).toBe(9);
      const sha = await calls();
      expect({ eval: sha.eval - before.eval, evalsha: sha.evalsha - before.evalsha }).toEqual({ eval: 0, evalsha: 2 });
      expect(await run(plain, 10)).toBe(19);
      const after = await calls();
      expect({ eval: after.eval - sha.eval, evalsha: after.evalsha - sha.evalsha }).toEqual({ eval: 1, evalsha: 0 });
    } finally {
      defined.disconnect();
      plain.disconnect();
    }
  });
});
