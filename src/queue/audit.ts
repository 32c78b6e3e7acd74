// The audit trail: every outcome and every operator action, appended to a Redis stream kept for the record window.
import type { ChainableCommander, Cluster, Redis } from 'ioredis';
import type { AuditEntry } from '../domain/ports.js';
import type { Logger } from '../logger.js';
import { KEYS } from '../keys.js';

export interface AuditInput {
  readonly actor: string;
  readonly action: string;
  readonly fingerprint?: string | undefined;
  readonly detail?: string | undefined;
}

export class AuditLog {
  constructor(
    private readonly redis: Redis | Cluster,
    private readonly retentionMs: number,
    private readonly logger: Logger,
  ) {}

  /** Appends one entry, trims what is older than the retention, and writes the same as a structured log line. */
  async append(entry: AuditInput): Promise<void> {
    const multi = this.redis.multi();
    this.queue(multi, entry);
    await multi.exec();
    this.logged(entry);
  }

  /** Queues the entry on `multi` (written in one step with a settlement); call `logged` once it is committed. */
  queue(multi: ChainableCommander, entry: AuditInput): void {
    const minId = `${Date.now() - this.retentionMs}-0`;
    const fields = ['actor', entry.actor, 'action', entry.action];
    if (entry.fingerprint) fields.push('fp', entry.fingerprint);
    if (entry.detail) fields.push('detail', entry.detail.slice(0, 500));
    multi.xadd(KEYS.audit, 'MINID', '~', minId, '*', ...fields);
  }

  /** The entry's structured log line. */
  logged(entry: AuditInput): void {
    this.logger.info({ audit: true, actor: entry.actor, action: entry.action, fp: entry.fingerprint?.slice(0, 12), detail: entry.detail }, `audit: ${entry.action}`);
  }

  /** Newest first. */
  async read(filter: { fingerprint?: string | undefined; since?: number | undefined; limit?: number | undefined }): Promise<AuditEntry[]> {
    const limit = filter.limit ?? 100;
    const start = filter.since === undefined ? '-' : `${filter.since}-0`;
    const out: AuditEntry[] = [];
    let end = '+';
    // Pages backwards until enough entries match (a fingerprint filter may skip many).
    for (;;) {
      const page = await this.redis.xrevrange(KEYS.audit, end, start, 'COUNT', 500);
      for (const [id, flat] of page) {
        const f: Record<string, string> = {};
        for (let i = 0; i + 1 < flat.length; i += 2) f[flat[i] ?? ''] = flat[i + 1] ?? '';
        if (filter.fingerprint && f['fp'] !== filter.fingerprint) continue;
        out.push({ id, at: new Date(Number(id.split('-')[0])).toISOString(), actor: f['actor'] ?? '', action: f['action'] ?? '', ...(f['fp'] ? { fingerprint: f['fp'] } : {}), ...(f['detail'] ? { detail: f['detail'] } : {}) });
        if (out.length >= limit) return out;
      }
      const last = page.at(-1);
      if (page.length < 500 || !last) return out;
      end = `(${last[0]}`;
    }
  }
}
