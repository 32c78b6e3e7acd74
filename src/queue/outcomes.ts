// Remembers each token's final outcome, by fingerprint, for a window after its job is gone: resends cause no new call.
import type { ChainableCommander, Cluster, Redis } from 'ioredis';
import type { Identified } from '../domain/outcome.js';
import { KEYS } from '../keys.js';

export interface OutcomeRecord {
  readonly status: string;
  readonly via: string;
  readonly type: string;
  readonly at: string;
  readonly attempts: number;
  readonly instance?: string;
  readonly identified?: Identified;
  readonly confirmed?: boolean;
}

const key = KEYS.outcome;

export class OutcomeStore {
  constructor(
    private readonly redis: Redis | Cluster,
    private readonly retentionSeconds: number,
  ) {}

  async get(fp: string): Promise<OutcomeRecord | undefined> {
    const raw = await this.redis.get(key(fp));
    return raw === null ? undefined : (JSON.parse(raw) as OutcomeRecord);
  }

  /** The subset of `fps` that already have an outcome, in one round trip. */
  async known(fps: readonly string[]): Promise<Set<string>> {
    if (fps.length === 0) return new Set();
    const values = await this.redis.mget(fps.map(key));
    return new Set(fps.filter((_, i) => values[i] !== null));
  }

  /** The outcomes of `fps` that have one, in one round trip. */
  async getMany(fps: readonly string[]): Promise<Map<string, OutcomeRecord>> {
    if (fps.length === 0) return new Map();
    const values = await this.redis.mget(fps.map(key));
    return new Map(fps.flatMap((fp, i) => (values[i] ? [[fp, JSON.parse(values[i]) as OutcomeRecord] as const] : [])));
  }

  async record(fp: string, outcome: OutcomeRecord): Promise<void> {
    await this.redis.set(key(fp), JSON.stringify(outcome), 'EX', this.retentionSeconds);
  }

  /** Queues `record` on `multi`: the settlement writes the outcome with the record, audit line and index in one step. */
  queueRecord(multi: ChainableCommander, fp: string, outcome: OutcomeRecord): void {
    multi.set(key(fp), JSON.stringify(outcome), 'EX', this.retentionSeconds);
  }
}
