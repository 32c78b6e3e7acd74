// Per-token records in Redis, kept for RECORD_RETENTION_DAYS: one hash holding the fields, the bounded events and a
// token's only location; a sorted set of locations once a second one arrives; the vulnerabilities that named it.
import type { ChainableCommander, Cluster, Redis } from 'ioredis';
import type { Identified } from '../domain/outcome.js';
import { RECORD_LIMITS, type TokenEvent, type TokenRecord, type TokenState } from '../domain/record.js';
import { MAX_VULNERABILITIES_PER_TOKEN, parseRefKey, refKey, type VulnerabilityRef } from '../domain/vulnerability.js';
import { KEYS, nodeOfKeys } from '../keys.js';
import { defineScripts, queueScript, type LuaScript } from './lua.js';

const key = KEYS.record;
const eventsKey = (fp: string) => `${key(fp)}:events`;
const locationsKey = (fp: string) => `${key(fp)}:locations`;
const vulnerabilitiesKey = (fp: string) => `${key(fp)}:vulnerabilities`;
/** Every key of a token's record, all kept for the same retention. */
const recordKeys = (fp: string) => [key(fp), eventsKey(fp), locationsKey(fp), vulnerabilitiesKey(fp)] as const;

export interface Change {
  readonly state?: TokenState;
  readonly event: TokenEvent['event'];
  readonly actor?: string;
  readonly detail?: string | undefined;
  readonly fields?: Readonly<Record<string, string | number | undefined>>;
  /** Fields dropped from the record's current view (their story stays in the events). */
  readonly clear?: readonly string[];
  /** The job's attempt number: stored as `attempts` after adding the attempts of the token's earlier runs (replays). */
  readonly attempt?: number;
  /** A replay starts the job's count again from 1: what was attempted so far becomes the base of `attempts`. */
  readonly rebaseAttempts?: boolean;
}

/** attempts = priorAttempts + the job's attempt number. */
const setAttempts = (record: string, attempt: string) => `redis.call('HSET', ${record}, 'attempts', tonumber(redis.call('HGET', ${record}, 'priorAttempts') or '0') + tonumber(${attempt}))`;
/** setAttempts in the same MULTI as the rest of the change. */
const SET_ATTEMPTS: LuaScript = { name: 'trapiRecordSetAttempts', keys: 1, lua: `${setAttempts('KEYS[1]', 'ARGV[1]')} return 1` };
const REBASE_ATTEMPTS: LuaScript = { name: 'trapiRecordRebaseAttempts', keys: 1, lua: "redis.call('HSET', KEYS[1], 'priorAttempts', redis.call('HGET', KEYS[1], 'attempts') or '0') return 1" };
/**
 * The events live in the record's hash as `e<n>` (n counts up from 1 in field `ev`), the newest kept: one key per
 * token rather than a hash and a list (a key of its own costs some 200 bytes before its first event). A record written
 * by 0.1.0 keeps its older events in the list `<record>:events`, read after the hash's and trimmed here, so that the
 * two never hold more than the bound between them. KEYS: the record, its old list. ARGV: the event, the bound.
 */
const appendEvent = (event: string, bound: string, record = 'KEYS[1]', list = 'KEYS[2]') => `
local n = redis.call('HINCRBY', ${record}, 'ev', 1)
local limit = tonumber(${bound})
redis.call('HSET', ${record}, 'e' .. n, ${event})
if n > limit then redis.call('HDEL', ${record}, 'e' .. (n - limit)) end
if n >= limit then redis.call('DEL', ${list}) else redis.call('LTRIM', ${list}, 0, limit - n - 1) end
return n`;
const APPEND_EVENT: LuaScript = { name: 'trapiRecordAppendEvent', keys: 2, lua: appendEvent('ARGV[1]', 'ARGV[2]') };

/**
 * An attempt begins, unless the token is settled: one script, so that the worker's question "is it settled?" and its
 * answer "attempting" cost one round trip, and a settled token's record never says `attempted`. KEYS: the outcome (the
 * guard), then recordKeys (the record, its old event list, its locations, its vulnerabilities). ARGV: the packed
 * event, the event bound, the job's attempt, the retention in seconds. Returns the outcome when there is one (nothing
 * written), else false.
 */
const ATTEMPTED_UNLESS_SETTLED: LuaScript = {
  name: 'trapiAttemptedUnlessSettled',
  keys: 5,
  lua: `
local outcome = redis.call('GET', KEYS[1])
if outcome then return outcome end
redis.call('HSET', KEYS[2], 'state', 'attempted')
local function append() ${appendEvent('ARGV[1]', 'ARGV[2]', 'KEYS[2]', 'KEYS[3]')} end
append()
${setAttempts('KEYS[2]', 'ARGV[3]')}
for i = 2, 5 do redis.call('EXPIRE', KEYS[i], ARGV[4]) end
return false`,
};

interface Scripts {
  trapiAttemptedUnlessSettled(outcome: string, record: string, events: string, locations: string, vulnerabilities: string, event: string, bound: number, attempt: number, retentionSeconds: number): Promise<string | null>;
}
/**
 * A receipt of a token, in one script (KEYS: its record, its old event list, its locations; ARGV: when in ms, its
 * type, the packed `accepted` event, the event bound, its location or '', the location bound).
 * - `lastReceivedAt` is stored only when it differs from `firstReceivedAt` (most tokens are received once).
 * - Most tokens are found in one place: that one is the record's `loc` field (received last at `locAt`, or when absent
 *   at `firstReceivedAt`), with no sorted set. A second distinct location moves both into the sorted set, scored by
 *   when each was last received, as every later one goes.
 * - The first time: `accepted` as state and first event. That event is implied, not stored: `ev` becomes 1 with no
 *   `e1`, and `accepted` at `firstReceivedAt` is read in its place until the bound trims it (see `eventsOf`). Only a
 *   record that had events before its first receipt stores it.
 */
const RECEIVED: LuaScript = {
  name: 'trapiRecordReceived',
  keys: 3,
  lua: `
local c, rec, at, loc = redis.call, KEYS[1], ARGV[1], ARGV[5]
local first = c('HSETNX', rec, 'firstReceivedAt', at) == 1
local atFirst = c('HGET', rec, 'firstReceivedAt') == at
c('HSET', rec, 'type', ARGV[2])
c('HINCRBY', rec, 'received', 1)
if atFirst then c('HDEL', rec, 'lastReceivedAt') else c('HSET', rec, 'lastReceivedAt', at) end
if loc ~= '' then
  local only = c('HGET', rec, 'loc')
  if c('EXISTS', KEYS[3]) == 0 and (not only or only == loc) then
    c('HSET', rec, 'loc', loc)
    if atFirst then c('HDEL', rec, 'locAt') else c('HSET', rec, 'locAt', at) end
  else
    if only then
      c('ZADD', KEYS[3], c('HGET', rec, 'locAt') or c('HGET', rec, 'firstReceivedAt'), only)
      c('HDEL', rec, 'loc', 'locAt')
    end
    c('ZADD', KEYS[3], at, loc)
    c('ZREMRANGEBYRANK', KEYS[3], 0, -tonumber(ARGV[6]) - 1)
  end
end
if not first then return 0 end
c('HSET', rec, 'state', 'accepted')
if c('HEXISTS', rec, 'ev') == 0 then
  c('HSET', rec, 'ev', 1)
  return 1
end
${appendEvent('ARGV[3]', 'ARGV[4]')}`,
};

/**
 * An event as stored: `[ms, event, detail?, actor?]` (JSON; the actor only when not `service`), a third of the JSON
 * object it stands for, so that it stays within Redis's compact-encoding bound (64 bytes by default) when it can.
 */
export function packEvent(e: TokenEvent): string {
  const packed: unknown[] = [Date.parse(e.at), e.event];
  if (e.detail !== undefined || e.actor !== 'service') packed.push(e.detail ?? '');
  if (e.actor !== 'service') packed.push(e.actor);
  return JSON.stringify(packed);
}

/** Reads a stored event: the packed array, or the JSON object 0.1.0 wrote. */
export function unpackEvent(stored: string): TokenEvent {
  const parsed = JSON.parse(stored) as TokenEvent | [number, TokenEvent['event'], string?, string?];
  if (!Array.isArray(parsed)) return parsed;
  const [at, event, detail, actor] = parsed;
  return { at: new Date(at).toISOString(), event, actor: actor ?? 'service', ...(detail ? { detail } : {}) };
}

/** A time as stored: ms since the epoch (9 bytes in a listpack), or the ISO string 0.1.0 wrote. */
const isoOf = (stored: string | undefined): string => (stored === undefined ? '' : /^\d+$/.test(stored) ? new Date(Number(stored)).toISOString() : stored);

/**
 * The events of a record's hash (`e<n>`, and the implied `accepted` as `e1`, see RECEIVED), newest first, then
 * those of its old list (already newest first), bounded.
 */
function eventsOf(hash: Record<string, string>, oldList: readonly string[]): TokenEvent[] {
  const count = Number(hash['ev'] ?? 0);
  const implied = count >= 1 && count <= RECORD_LIMITS.events && hash['e1'] === undefined && hash['firstReceivedAt'] !== undefined;
  const numbers = Object.keys(hash)
    .filter((f) => /^e\d+$/.test(f))
    .map((f) => Number(f.slice(1)))
    .sort((a, b) => b - a);
  const accepted = packEvent({ at: isoOf(hash['firstReceivedAt']), event: 'accepted', actor: 'service' });
  return [...numbers.map((n) => hash[`e${n}`] ?? ''), ...(implied ? [accepted] : []), ...oldList].slice(0, RECORD_LIMITS.events).map(unpackEvent);
}

/** The vulnerability references of a record's set, as ZRANGE answers them. */
export const parseRefs = (keys: unknown): VulnerabilityRef[] => (Array.isArray(keys) ? keys.map((k) => parseRefKey(String(k))).filter((v): v is VulnerabilityRef => v !== undefined) : []);

/** Runs a transaction; a command Redis refused inside it fails the whole call (MULTI itself reports it only per reply). */
export async function execAll(multi: ChainableCommander): Promise<unknown[]> {
  const replies = await multi.exec();
  if (replies === null) throw new Error('Redis transaction aborted');
  for (const [err] of replies) if (err) throw err;
  return replies.map(([, reply]) => reply);
}

export class RecordStore {
  constructor(
    private readonly redis: Redis | Cluster,
    private readonly retentionSeconds: number,
  ) {
    defineScripts(redis, [RECEIVED, APPEND_EVENT, SET_ATTEMPTS, REBASE_ATTEMPTS, ATTEMPTED_UNLESS_SETTLED]);
  }

  /**
   * The job's attempt `attempt` begins (state, event, `attempts`, as `change` writes them), unless `outcomeKey` holds
   * the token's outcome: then nothing is written and the stored outcome is returned. One round trip.
   */
  async attemptedUnlessSettled(fp: string, attempt: number, outcomeKey: string, at = Date.now()): Promise<string | undefined> {
    const event = packEvent({ at: new Date(at).toISOString(), event: 'attempted', actor: 'service', detail: `attempt ${attempt}` });
    const scripts = this.redis as unknown as Scripts;
    const outcome = await scripts.trapiAttemptedUnlessSettled(outcomeKey, ...recordKeys(fp), event, RECORD_LIMITS.events, attempt, this.retentionSeconds);
    return outcome ?? undefined;
  }

  /** A batch's tokens were received (fan-out): counts, locations, and `accepted` the first time. One round trip. */
  async received(tokens: ReadonlyArray<{ fp: string; type: string; location?: string | undefined; vulnerabilities?: readonly VulnerabilityRef[] | undefined }>, at: number): Promise<void> {
    const accepted = packEvent({ at: new Date(at).toISOString(), event: 'accepted', actor: 'service' });
    const multi = this.redis.multi();
    for (const t of tokens) {
      // The first time this token is seen (its HSETNX succeeds), it is `accepted`, in the same step. No `fingerprint`
      // field: the key names it (a 64-byte copy per token, never read).
      queueScript(multi, RECEIVED, [key(t.fp), eventsKey(t.fp), locationsKey(t.fp)], [at, t.type, accepted, RECORD_LIMITS.events, t.location ?? '', RECORD_LIMITS.locations]);
      if (t.vulnerabilities?.length) {
        // NX: a vulnerability keeps the time it first named the token; the oldest are kept when over the bound.
        multi.zadd(vulnerabilitiesKey(t.fp), 'NX', ...t.vulnerabilities.flatMap((v) => [at, refKey(v)]));
        multi.zremrangebyrank(vulnerabilitiesKey(t.fp), MAX_VULNERABILITIES_PER_TOKEN, -1);
      }
      this.#expire(multi, t.fp);
    }
    await execAll(multi);
  }

  /** Appends an event (bounded) and updates state and fields. */
  async change(fp: string, change: Change, at = Date.now()): Promise<void> {
    const multi = this.multi();
    this.queueChange(multi, fp, change, at);
    await multi.exec();
  }

  /** A transaction on the records' connection, for a change written in one step with other stores' writes (the journal). */
  multi(): ChainableCommander {
    return this.redis.multi();
  }

  /** Queues `change` on `multi` (see `change`). */
  queueChange(multi: ChainableCommander, fp: string, change: Change, at = Date.now()): void {
    const event: TokenEvent = { at: new Date(at).toISOString(), event: change.event, actor: change.actor ?? 'service', ...(change.detail ? { detail: change.detail.slice(0, 300) } : {}) };
    // No `updatedAt`: nothing read it, and the newest event says when.
    const fields: Record<string, string> = change.state ? { state: change.state } : {};
    for (const [k, v] of Object.entries(change.fields ?? {})) if (v !== undefined) fields[k] = String(v);
    if (Object.keys(fields).length > 0) multi.hset(key(fp), fields);
    queueScript(multi, APPEND_EVENT, [key(fp), eventsKey(fp)], [packEvent(event), RECORD_LIMITS.events]);
    if (change.clear && change.clear.length > 0) multi.hdel(key(fp), ...change.clear);
    if (change.rebaseAttempts) queueScript(multi, REBASE_ATTEMPTS, [key(fp)], []);
    if (change.attempt !== undefined) queueScript(multi, SET_ATTEMPTS, [key(fp)], [change.attempt]);
    this.#expire(multi, fp);
  }

  async get(fp: string): Promise<TokenRecord | undefined> {
    const [[, hash], [, events], [, locations], [, vulnerabilities]] = ((await this.redis.multi().hgetall(key(fp)).lrange(eventsKey(fp), 0, -1).zrevrange(locationsKey(fp), 0, -1).zrange(vulnerabilitiesKey(fp), '0', '-1').exec()) ?? []) as [
      [unknown, Record<string, string>],
      [unknown, string[]],
      [unknown, string[]],
      [unknown, string[]],
    ];
    if (!hash || Object.keys(hash).length === 0) return undefined;
    return {
      fingerprint: fp,
      type: hash['type'] ?? '',
      state: (hash['state'] ?? 'accepted') as TokenState,
      firstReceivedAt: isoOf(hash['firstReceivedAt']),
      lastReceivedAt: isoOf(hash['lastReceivedAt'] ?? hash['firstReceivedAt']),
      received: Number(hash['received'] ?? 0),
      locations: hash['loc'] ? [hash['loc']] : locations,
      attempts: Number(hash['attempts'] ?? 0),
      events: eventsOf(hash, events),
      ...(hash['instance'] ? { instance: hash['instance'] } : {}),
      ...(hash['strategy'] ? { strategy: hash['strategy'] } : {}),
      ...(hash['identified'] ? { identified: JSON.parse(hash['identified']) as Identified } : {}),
      ...(hash['confirmed'] ? { confirmed: hash['confirmed'] === 'true' } : {}),
      ...(hash['lastError'] ? { lastError: hash['lastError'] } : {}),
      ...(hash['lastSummary'] ? { lastSummary: hash['lastSummary'] } : {}),
      ...(vulnerabilities.length > 0 ? { vulnerabilities: vulnerabilities.map(parseRefKey).filter((v): v is VulnerabilityRef => v !== undefined) } : {}),
    };
  }

  /** Every vulnerability that named the token so far (ids only), oldest first. */
  async vulnerabilities(fp: string): Promise<VulnerabilityRef[]> {
    return parseRefs(await this.redis.zrange(vulnerabilitiesKey(fp), '0', '-1'));
  }

  /** Queues the read of `vulnerabilities` on `multi`; its reply is read with `parseRefs`. */
  queueVulnerabilities(multi: ChainableCommander, fp: string): void {
    multi.zrange(vulnerabilitiesKey(fp), '0', '-1');
  }

  /** Fingerprints of records starting with `prefix` (operator lookups by a short fingerprint). */
  async matching(prefix: string, max = 2): Promise<string[]> {
    const found = new Set<string>();
    let cursor = '0';
    const node = await nodeOfKeys(this.redis);
    do {
      const [next, keys] = await node.scan(cursor, 'MATCH', `${key(prefix)}*`, 'COUNT', 1000);
      cursor = next;
      for (const k of keys) {
        const fp = k.slice(key('').length);
        if (/^[0-9a-f]{64}$/.test(fp)) found.add(fp);
      }
    } while (cursor !== '0' && found.size < max);
    return [...found];
  }

  /** Returns how many commands it queued. */
  #expire(multi: ChainableCommander, fp: string): number {
    const keys = recordKeys(fp);
    for (const k of keys) multi.expire(k, this.retentionSeconds);
    return keys.length;
  }
}
