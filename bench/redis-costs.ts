// What one token costs Redis, stage by stage: every command the service sends is seen through MONITOR and attributed to
// intake, fan-out, pick-up, limiter, provider call, settlement or worker upkeep by the command and the keys it names.
// Counts, not timings: they do not depend on the machine's load.
import { createHash } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { Redis } from 'ioredis';

export const STAGES = ['intake', 'fan-out', 'pick-up', 'limiter', 'provider call', 'settlement', 'worker upkeep', 'other'] as const;
export type Stage = (typeof STAGES)[number];

export interface StageCost {
  /** Round trips: a command, or one MULTI…EXEC (its commands counted in `commands`). */
  roundTrips: number;
  commands: number;
  /** Bytes of the requests as RESP (what the service sent; replies are not seen by MONITOR). */
  requestBytes: number;
  /** Commands run inside Lua scripts (BullMQ's and ours): Redis's work, not round trips. */
  scriptCommands: number;
}

export type Costs = Record<Stage, StageCost>;

/** What one round trip was: its command (a script by name) and the first key-like argument, digits and fingerprints masked. */
function label(commands: readonly (readonly string[])[], scripts: Map<string, string>): string {
  const first = commands[0] ?? [];
  const cmd = (first[0] ?? '').toLowerCase();
  const name = cmd === 'evalsha' ? (scripts.get(first[1] ?? '') ?? `evalsha ${(first[1] ?? '').slice(0, 8)}`) : cmd;
  const key = (cmd === 'evalsha' || cmd === 'eval' ? first[3] : first[1]) ?? '';
  const masked = key.replace(/[0-9a-f]{64}/g, '<fp>').replace(/[A-Za-z0-9_-]{20,}/g, '<id>');
  return commands.length > 1 ? `multi[${commands.map((c) => (c[0] ?? '').toLowerCase()).join(',')}] ${masked}`.slice(0, 140) : `${name} ${masked}`;
}

/** BullMQ's Lua scripts by SHA-1, so that an EVALSHA can be named (ioredis loads each by the SHA of its text). */
function bullmqScripts(): Map<string, string> {
  const require = createRequire(import.meta.url);
  const dir = join(dirname(require.resolve('bullmq/package.json')), 'dist', 'cjs', 'scripts');
  const names = new Map<string, string>();
  for (const file of readdirSync(dir)) {
    if (!file.endsWith('.js')) continue;
    const mod = require(join(dir, file)) as Record<string, { name?: string; content?: string }>;
    for (const v of Object.values(mod)) if (v?.name && v.content) names.set(createHash('sha1').update(v.content).digest('hex'), v.name);
  }
  return names;
}

const respBytes = (args: readonly string[]): number => {
  let n = `*${args.length}\r\n`.length;
  for (const a of args) n += `$${Buffer.byteLength(a)}\r\n`.length + Buffer.byteLength(a) + 2;
  return n;
};

/** The stage of one command (`args[0]` lower-case), or of a whole transaction (its commands). */
function stageOf(commands: readonly (readonly string[])[], scripts: Map<string, string>): Stage {
  const flat = commands.flat().join(' ');
  const first = commands[0] ?? [];
  const cmd = (first[0] ?? '').toLowerCase();
  if (cmd === 'evalsha' || cmd === 'eval') {
    const name = cmd === 'evalsha' ? (scripts.get(first[1] ?? '') ?? 'script') : 'eval';
    const keys = first.slice(3, 3 + Number(first[2] ?? 0)).join(' ');
    if (keys.includes(':outbound:') || keys.includes(':budget:')) return 'limiter';
    if (keys.includes('trapi:intake:')) return name.startsWith('addStandardJob') ? 'intake' : name.startsWith('moveToActive') || name.startsWith('moveToFinished') ? 'fan-out' : 'worker upkeep';
    if (keys.includes('trapi:revocations:')) {
      if (name.startsWith('addStandardJob') || name.startsWith('addDelayedJob')) return 'fan-out';
      if (name.startsWith('moveToActive')) return 'pick-up';
      if (name.startsWith('moveToFinished') || name.startsWith('moveToDelayed')) return 'settlement';
      return 'worker upkeep';
    }
  }
  if (flat.includes(':outbound:') || flat.includes(':budget:')) return 'limiter';
  if (cmd === 'bzpopmin' || flat.includes('trapi:revocations:marker') || flat.includes('trapi:intake:marker')) return 'pick-up';
  if (flat.includes('trapi:record:')) {
    if (flat.includes('hsetnx') || flat.includes('HSETNX') || flat.includes('"accepted"') || flat.includes('lastReceivedAt')) return 'fan-out';
    // Events are stored packed, `[ms,"attempted"]` (records.ts): matched by the quoted name.
    if (flat.includes('"attempted"')) return 'provider call';
    return 'settlement';
  }
  if (flat.includes('trapi:outcome:')) return cmd === 'mget' ? 'fan-out' : cmd === 'get' ? 'pick-up' : 'settlement';
  if (flat.includes('trapi:unsettled')) return cmd === 'zadd' ? 'fan-out' : 'settlement';
  if (flat.includes('trapi:audit')) return 'settlement';
  if (flat.includes('trapi:breakers') || flat.includes('trapi:provider:') || flat.includes('trapi:credential')) return 'provider call';
  if (flat.includes('trapi:revocations:') || flat.includes('trapi:intake:')) return 'worker upkeep';
  return 'other';
}

export interface Recorder {
  /** Costs since the last `take()` (or start), and starts counting afresh. */
  take(): Promise<{ costs: Costs; unknown: Record<string, number>; detail: Record<string, number> }>;
  stop(): Promise<void>;
}

/** Starts MONITOR on `url`. Connections of `ignore` (the bench's own clients, by their CLIENT ID names) are left out. */
export async function recordCosts(url: string, ignoreNames: readonly string[] = ['bench']): Promise<Recorder> {
  const scripts = bullmqScripts();
  const empty = (): Costs => Object.fromEntries(STAGES.map((s) => [s, { roundTrips: 0, commands: 0, requestBytes: 0, scriptCommands: 0 }])) as Costs;
  let costs = empty();
  let unknown: Record<string, number> = {};
  let detail: Record<string, number> = {};
  const open = new Map<string, string[][]>(); // client address -> commands of its open MULTI
  const admin = new Redis(url);
  const ignored = new Set<string>();
  const refreshIgnored = async () => {
    const list = String(await admin.client('LIST'));
    for (const line of list.split('\n')) {
      const name = /name=(\S*)/.exec(line)?.[1] ?? '';
      const addr = /addr=(\S+)/.exec(line)?.[1];
      if (addr && (ignoreNames.includes(name) || line.includes('cmd=monitor') || line.includes('cmd=client'))) ignored.add(addr);
    }
  };
  await refreshIgnored();
  const monitor = await new Redis(url).monitor();
  const add = (commands: string[][]) => {
    const stage = stageOf(commands, scripts);
    const c = costs[stage];
    c.roundTrips += 1;
    c.commands += commands.length;
    c.requestBytes += commands.reduce((n, a) => n + respBytes(a), 0);
    const cmd = (commands[commands.length - 1]?.[0] ?? '').toLowerCase();
    lastScript = cmd === 'evalsha' || cmd === 'eval' ? c : undefined;
    const l = `${stage}: ${label(commands, scripts)}`;
    if (stage === 'other') unknown[l] = (unknown[l] ?? 0) + 1;
    detail[l] = (detail[l] ?? 0) + 1;
  };
  let lastScript: StageCost | undefined; // a script's own commands follow its EVALSHA in MONITOR, from source "lua"
  monitor.on('monitor', (_time: string, args: string[], source: string) => {
    if (source === 'lua') {
      if (lastScript) lastScript.scriptCommands += 1;
      return;
    }
    if (ignored.has(source)) return;
    const cmd = (args[0] ?? '').toLowerCase();
    if (cmd === 'multi') return void open.set(source, []);
    const tx = open.get(source);
    if (cmd === 'exec') {
      open.delete(source);
      if (tx && tx.length > 0) add(tx);
      return;
    }
    if (tx) return void tx.push(args);
    add([args]);
  });
  return {
    async take() {
      // MONITOR lines arrive shortly after the commands ran: let the stream catch up.
      await new Promise((r) => setTimeout(r, 300));
      const out = { costs, unknown, detail };
      costs = empty();
      unknown = {};
      detail = {};
      await refreshIgnored();
      return out;
    },
    async stop() {
      monitor.disconnect();
      admin.disconnect();
    },
  };
}

/** One table row per stage: round trips, commands and request bytes per token. */
export function costTable(phases: ReadonlyArray<{ name: string; tokens: number; costs: Costs }>): string {
  const lines = ['| stage | round trips / token | commands sent / token | commands inside scripts / token | request bytes / token |', '|---|---|---|---|---|'];
  const total = { roundTrips: 0, commands: 0, requestBytes: 0, scriptCommands: 0 };
  for (const stage of STAGES) {
    let rt = 0;
    let cmds = 0;
    let bytes = 0;
    let inner = 0;
    for (const p of phases) {
      const c = p.costs[stage];
      rt += c.roundTrips / p.tokens;
      cmds += c.commands / p.tokens;
      bytes += c.requestBytes / p.tokens;
      inner += c.scriptCommands / p.tokens;
    }
    if (rt === 0) continue;
    total.roundTrips += rt;
    total.commands += cmds;
    total.requestBytes += bytes;
    total.scriptCommands += inner;
    lines.push(`| ${stage} | ${rt.toFixed(2)} | ${cmds.toFixed(2)} | ${inner.toFixed(1)} | ${Math.round(bytes)} |`);
  }
  lines.push(`| **total** | ${total.roundTrips.toFixed(2)} | ${total.commands.toFixed(2)} | ${total.scriptCommands.toFixed(1)} | ${Math.round(total.requestBytes)} |`);
  return lines.join('\n');
}
