// Per-token records in Redis (hash + bounded event list + bounded locations), kept for RECORD_RETENTION_DAYS.
import type { ChainableCommander, Cluster, Redis } from 'ioredis';
import type { Identified } from '../domain/outcome.js';
import { RECORD_LIMITS, type TokenEvent, type TokenRecord, type TokenState } from '../domain/record.js';
import { MAX_VULNERABILITIES_PER_TOKEN, parseRefKey, refKey, type VulnerabilityRef } from '../domain/vulnerability.js';
import { KEYS, nodeOfKeys } from '../keys.js';

const key = KEYS.record;
const eventsKey = (fp: string) => `${key(fp)}:events`;
const locationsKey = (fp: string) => `${key(fp)}:locations`;
const vulnerabilitiesKey = (fp: string) => `${key(fp)}:vulnerabilities`;

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

/** attempts = priorAttempts + the job's attempt number, in the same MULTI as the rest of the change. */
const SET_ATTEMPTS = "redis.call('HSET', KEYS[1], 'attempts', tonumber(redis.call('HGET', KEYS[1], 'priorAttempts') or '0') + tonumber(ARGV[1])) return 1";
const REBASE_ATTEMPTS = "redis.call('HSET', KEYS[1], 'priorAttempts', redis.call('HGET', KEYS[1], 'attempts') or '0') return 1";
/** First receipt of a token (KEYS: its record, its events): `firstReceivedAt`, and `accepted` as state and first event. */
const FIRST_RECEIVED = `
if redis.call('HSETNX', KEYS[1], 'firstReceivedAt', ARGV[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], 'updatedAt', ARGV[1], 'state', 'accepted')
redis.call('LPUSH', KEYS[2], ARGV[2])
redis.call('LTRIM', KEYS[2], 0, tonumber(ARGV[3]))
return 1`;

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
  ) {}

  /** A batch's tokens were received (fan-out): counts, locations, and `accepted` the first time. One round trip. */
  async received(tokens: ReadonlyArray<{ fp: string; type: string; location?: string | undefined; vulnerabilities?: readonly VulnerabilityRef[] | undefined }>, at: number): Promise<void> {
    const iso = new Date(at).toISOString();
    const accepted: TokenEvent = { at: iso, event: 'accepted', actor: 'service' };
    const multi = this.redis.multi();
    for (const t of tokens) {
      // The first time this token is seen (its HSETNX succeeds), it is `accepted`, in the same step.
      multi.eval(FIRST_RECEIVED, 2, key(t.fp), eventsKey(t.fp), iso, JSON.stringify(accepted), RECORD_LIMITS.events - 1);
      // No `fingerprint` field: the key names it (a 64-byte copy per token, never read).
      multi.hset(key(t.fp), 'type', t.type, 'lastReceivedAt', iso);
      multi.hincrby(key(t.fp), 'received', 1);
      if (t.location) {
        multi.zadd(locationsKey(t.fp), at, t.location);
        multi.zremrangebyrank(locationsKey(t.fp), 0, -RECORD_LIMITS.locations - 1);
      }
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
    const fields: Record<string, string> = { updatedAt: event.at, ...(change.state ? { state: change.state } : {}) };
    for (const [k, v] of Object.entries(change.fields ?? {})) if (v !== undefined) fields[k] = String(v);
    multi.hset(key(fp), fields).lpush(eventsKey(fp), JSON.stringify(event)).ltrim(eventsKey(fp), 0, RECORD_LIMITS.events - 1);
    if (change.clear && change.clear.length > 0) multi.hdel(key(fp), ...change.clear);
    if (change.rebaseAttempts) multi.eval(REBASE_ATTEMPTS, 1, key(fp));
    if (change.attempt !== undefined) multi.eval(SET_ATTEMPTS, 1, key(fp), change.attempt);
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
      firstReceivedAt: hash['firstReceivedAt'] ?? '',
      lastReceivedAt: hash['lastReceivedAt'] ?? '',
      received: Number(hash['received'] ?? 0),
      locations,
      attempts: Number(hash['attempts'] ?? 0),
      events: events.map((e) => JSON.parse(e) as TokenEvent),
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
    const keys = [key(fp), eventsKey(fp), locationsKey(fp), vulnerabilitiesKey(fp)];
    for (const k of keys) multi.expire(k, this.retentionSeconds);
    return keys.length;
  }
}
