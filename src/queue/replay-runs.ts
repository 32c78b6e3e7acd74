// Background replays (the admin API's POST …/replay of many tokens): their state lives in Redis, so that any replica
// answers the poll of a run another one started.
import { randomUUID } from 'node:crypto';
import type { Cluster, Redis } from 'ioredis';
import type { Progress, ReplayRun } from '../domain/ports.js';
import { AppError } from '../errors.js';
import { KEYS } from '../keys.js';

const REPLAY_KEY = KEYS.replayRun;
/** Kept a day after its start. */
const REPLAY_TTL_SECONDS = 86_400;
/** How often a running replay writes its progress (and at its end). */
const REPLAY_WRITE_MS = 250;

export class ReplayRuns {
  constructor(private readonly redis: Redis | Cluster) {}

  /** Records a run of `actor` and starts `work` without waiting for it; its progress and its end are written as they come. */
  async start(actor: string, work: (progress: Progress) => Promise<readonly string[]>): Promise<ReplayRun> {
    const { redis } = this;
    const now = new Date().toISOString();
    const run: ReplayRun = { id: randomUUID(), state: 'running', actor, startedAt: now, updatedAt: now, total: 0, done: 0, queued: 0 };
    const key = REPLAY_KEY(run.id);
    await redis.multi().hset(key, fields(run)).expire(key, REPLAY_TTL_SECONDS).exec();
    let last = { done: 0, total: 0 };
    let writing: Promise<unknown> = Promise.resolve();
    let lastWrite = 0;
    const write = (f: Record<string, string>) => {
      writing = writing.then(() => redis.hset(key, { ...f, updatedAt: new Date().toISOString() })).catch(() => undefined);
      return writing;
    };
    void work((done, total) => {
      last = { done, total };
      if (Date.now() - lastWrite < REPLAY_WRITE_MS && done < total) return;
      lastWrite = Date.now();
      void write({ done: String(done), total: String(total) });
    }).then(
      (queued) => write({ state: 'done', done: String(last.done), total: String(last.total), queued: String(queued.length), finishedAt: new Date().toISOString() }),
      (err: unknown) => write({ state: 'failed', done: String(last.done), total: String(last.total), error: err instanceof AppError ? err.message : 'the replay stopped: Redis failed mid-way; replay again', finishedAt: new Date().toISOString() }),
    );
    return run;
  }

  async get(id: string): Promise<ReplayRun | undefined> {
    if (!/^[0-9a-f-]{36}$/.test(id)) return undefined;
    const h = await this.redis.hgetall(REPLAY_KEY(id));
    if (!h['id'] || !h['state'] || !h['actor'] || !h['startedAt'] || !h['updatedAt']) return undefined;
    return {
      id: h['id'],
      state: h['state'] as ReplayRun['state'],
      actor: h['actor'],
      startedAt: h['startedAt'],
      updatedAt: h['updatedAt'],
      ...(h['finishedAt'] ? { finishedAt: h['finishedAt'] } : {}),
      total: Number(h['total'] ?? 0),
      done: Number(h['done'] ?? 0),
      queued: Number(h['queued'] ?? 0),
      ...(h['error'] ? { error: h['error'] } : {}),
    };
  }
}

const fields = (run: ReplayRun): Record<string, string> => Object.fromEntries(Object.entries(run).map(([k, v]) => [k, String(v)]));
