// Our GitLab credentials in Redis: sealed, versioned, and written only by the holder of a fenced lock.
import { randomBytes } from 'node:crypto';
import type { Cluster, Redis } from 'ioredis';
import { newestKey, open, seal, type EncryptionKey } from '../domain/crypto.js';
import type { CredentialName, CredentialVault, Intent, Lock, Problem, StoredCredential } from '../domain/credentials.js';
import { Resealer, type ResealReport } from '../domain/reseal.js';
import { fingerprint } from '../domain/fingerprint.js';
import { KEYS, nodeOfKeys } from '../keys.js';


// Writes only when no later lock holder has written and the generation is the one the writer read.
const FENCED = `
local stored = tonumber(redis.call('HGET', KEYS[1], 'fence') or '0')
local fence = tonumber(ARGV[1])
if stored > fence then return 0 end
if ARGV[2] ~= '' and (redis.call('HGET', KEYS[1], 'generation') or '0') ~= ARGV[2] then return 0 end
local nset = tonumber(ARGV[3])
redis.call('HSET', KEYS[1], 'fence', ARGV[1])
for i = 0, nset - 1 do redis.call('HSET', KEYS[1], ARGV[4 + 2 * i], ARGV[5 + 2 * i]) end
for i = 4 + 2 * nset, #ARGV do redis.call('HDEL', KEYS[1], ARGV[i]) end
return 1`;

// A configured credential is adopted once: after that the store (which follows rotations) wins, so a replica
// still configured with a rotated-away token cannot bring it back.
const SEED = `
if redis.call('SISMEMBER', KEYS[2], ARGV[1]) == 1 and redis.call('HEXISTS', KEYS[1], 'current') == 1 then return 0 end
redis.call('SADD', KEYS[2], ARGV[1])
local gen = tonumber(redis.call('HGET', KEYS[1], 'generation') or '0') + 1
redis.call('HSET', KEYS[1], 'current', ARGV[2], 'generation', tostring(gen), 'seededAt', ARGV[3])
redis.call('HDEL', KEYS[1], 'intent', 'candidate', 'lost', 'problem', 'rotatedAt', 'expiresAt')
return gen`;

const RESCUE = `
if (redis.call('HGET', KEYS[1], 'generation') or '0') ~= ARGV[1] or redis.call('HEXISTS', KEYS[1], 'candidate') == 1 then return 0 end
redis.call('HSET', KEYS[1], 'candidate', ARGV[2])
return 1`;
const RELEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`;
const REMAINING = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PTTL', KEYS[1]) end return -1`;
const RESEAL = `if redis.call('HGET', KEYS[1], ARGV[1]) == ARGV[2] then redis.call('HSET', KEYS[1], ARGV[1], ARGV[3]) return 1 end return 0`;

/** Confirms that the replicas have every write made so far on the store's connection (src/queue/redis.ts ReplicaGate). */
export interface Replicated {
  /** Changes whenever the connection closes; taken before a write. */
  readonly epoch: number;
  confirm(timeoutMs?: number, since?: number): Promise<void>;
}

/**
 * The successor GitLab answered with: lost in a failover, it locks the credential out (GitLab revoked the old one).
 * Its write counts only once replicated; the write-ahead intent before it rides along (one WAIT covers every earlier
 * write). `current` is committed only after that: a failover that loses the commit leaves intent and candidate,
 * which the next check promotes ('recovered').
 */
const DURABLE = 'candidate';

export class CredentialStore implements CredentialVault {
  constructor(
    private readonly redis: Redis | Cluster,
    private readonly keys: () => readonly EncryptionKey[],
    /** On the store's own connection: a stored successor counts only once the replicas have it. */
    private readonly replicated?: Replicated,
  ) {}

  /** Stores the configured credential unless it was adopted before; returns the new generation, or 0 if unchanged. */
  async seed(name: CredentialName, configured: string): Promise<number> {
    const sealed = seal(configured, newestKey(this.keys()), aad(name));
    return Number(await this.redis.eval(SEED, 2, key(name), `${key(name)}:configured`, fingerprint(configured), sealed, new Date().toISOString()));
  }

  async read(name: CredentialName): Promise<StoredCredential> {
    const h = await this.redis.hgetall(key(name));
    return {
      generation: Number(h['generation'] ?? 0),
      current: h['current'],
      candidate: h['candidate'],
      intent: parse<Intent>(h['intent']),
      lost: parse<Problem>(h['lost']),
      problem: parse<Problem>(h['problem']),
      expiresAt: h['expiresAt'] === undefined ? undefined : h['expiresAt'] === '' ? null : h['expiresAt'],
      rotatedAt: h['rotatedAt'],
      seededAt: h['seededAt'],
      checkedAt: h['checkedAt'],
    };
  }

  /** The generation and token in use (opened), and when a rotation under way began; undefined before the first seed. */
  async current(name: CredentialName): Promise<{ generation: number; token: string; rotatingSince: number | undefined } | undefined> {
    const [generation, sealed, intent] = await this.redis.hmget(key(name), 'generation', 'current', 'intent');
    if (sealed === null || sealed === undefined || generation === null || generation === undefined) return undefined;
    const since = Date.parse(parse<Intent>(intent ?? undefined)?.at ?? '');
    return { generation: Number(generation), token: this.open(name, sealed), rotatingSince: Number.isFinite(since) ? since : undefined };
  }

  open(name: CredentialName, sealed: string): string {
    return open(sealed, this.keys(), aad(name));
  }

  seal(name: CredentialName, token: string): string {
    return seal(token, newestKey(this.keys()), aad(name));
  }

  /** One rotator at a time across all replicas. The fence orders lock holders: a stale holder's writes are refused. */
  async lock(name: CredentialName, ttlMs: number): Promise<Lock | undefined> {
    const owner = randomBytes(12).toString('hex');
    const ok = await this.redis.set(`${key(name)}:lock`, owner, 'PX', Math.ceil(ttlMs), 'NX');
    if (ok !== 'OK') return undefined;
    return { owner, fence: await this.redis.incr(`${key(name)}:fences`) };
  }

  /** Milliseconds left on our lock; 0 when it is no longer ours. */
  async remaining(name: CredentialName, lock: Lock): Promise<number> {
    return Math.max(0, Number(await this.redis.eval(REMAINING, 1, `${key(name)}:lock`, lock.owner)));
  }

  async unlock(name: CredentialName, lock: Lock): Promise<void> {
    await this.redis.eval(RELEASE, 1, `${key(name)}:lock`, lock.owner);
  }

  /** Applies `set` and `del` only if no later lock holder wrote and the generation is still `generation`. */
  async fenced(name: CredentialName, lock: Lock, generation: number | undefined, set: Record<string, string>, del: readonly string[] = []): Promise<boolean> {
    const pairs = Object.entries(set).flat();
    const args = [String(lock.fence), generation === undefined ? '' : String(generation), String(pairs.length / 2), ...pairs, ...del];
    const epoch = this.replicated?.epoch;
    const written = Number(await this.redis.eval(FENCED, 1, key(name), ...args)) === 1;
    // Throws when not replicated in time: the rotator then treats the successor as not stored, and retries.
    if (written && DURABLE in set) await this.replicated?.confirm(undefined, epoch);
    return written;
  }

  /**
   * Stores a successor whose rotator lost its lock while GitLab answered, for the new lock holder to promote: only
   * while the credential is still at `generation` and no other successor is stored.
   */
  async rescueCandidate(name: CredentialName, generation: number, sealed: string): Promise<boolean> {
    const epoch = this.replicated?.epoch;
    const written = Number(await this.redis.eval(RESCUE, 1, key(name), String(generation), sealed)) === 1;
    if (written) await this.replicated?.confirm(undefined, epoch);
    return written;
  }

  /** Observations anyone may write (what GitLab said about the credential): they decide nothing. */
  async observe(name: CredentialName, set: Record<string, string>, del: readonly string[] = []): Promise<void> {
    const m = this.redis.multi();
    if (Object.keys(set).length > 0) m.hset(key(name), set);
    if (del.length > 0) m.hdel(key(name), ...del);
    await m.exec();
  }

  /** Re-seals every stored credential under the newest key (key rotation); reports what still needs an old key. */
  async rekey(): Promise<ResealReport> {
    const resealer = new Resealer(this.keys());
    for (const k of await this.#allKeys()) {
      const name = k.slice(KEYS.credentialRoot.length + 1);
      for (const field of ['current', 'candidate']) {
        const sealed = await this.redis.hget(k, field);
        if (sealed === null) continue;
        // Compare-and-set: a rotation committed meanwhile keeps its own, newer value.
        await resealer.reseal(sealed, aad(name), async (resealed) => Number(await this.redis.eval(RESEAL, 1, k, field, sealed, resealed)) === 1);
      }
    }
    return resealer.report();
  }

  /** Every credential hash (not its lock, fence counter or configured set). */
  async #allKeys(): Promise<string[]> {
    const found: string[] = [];
    let cursor = '0';
    const node = await nodeOfKeys(this.redis);
    do {
      const [next, batch] = await node.scan(cursor, 'MATCH', `${KEYS.credentialRoot}:*`, 'COUNT', 200);
      cursor = next;
      found.push(...batch.filter((k) => !/:(lock|fences|configured)$/.test(k)));
    } while (cursor !== '0');
    return found;
  }
}

const key = (name: CredentialName): string => `${KEYS.credentialRoot}:${name}`;
/** Binds a sealed credential to its name: a value copied to another credential's key does not open. */
const aad = (name: CredentialName): string => `credential:${name}`;

function parse<T>(raw: string | undefined): T | undefined {
  if (raw === undefined) return undefined;
  try {
    return JSON.parse(raw) as T;
  } catch {
    return undefined;
  }
}
