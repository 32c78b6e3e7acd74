// Re-encrypts queued and failed tokens under the newest key, so that an older key can be retired.
import type { Job, Queue } from 'bullmq';
import { newestKey, open, seal, sealedKeyId, type EncryptionKey } from '../domain/crypto.js';
import type { RekeyReport } from '../domain/ports.js';
import type { IntakeJobData, RevocationJobData } from './jobs.js';

const STATES = ['waiting', 'delayed', 'prioritized', 'failed', 'waiting-children'] as const;

/**
 * For every job not running, opens its sealed payload with whichever configured key made it and seals it again
 * under the newest key, bound to the same id. A job that cannot be opened (its key is gone) is left untouched and
 * its key id reported as still used.
 */
export async function rekey(queues: { revocations: Queue<RevocationJobData>; intake: Queue<IntakeJobData> }, keys: readonly EncryptionKey[]): Promise<Omit<RekeyReport, 'credentials'>> {
  const newest = newestKey(keys);
  let rekeyed = 0;
  let current = 0;
  const stillUsed = new Set<string>();
  for (const queue of [queues.revocations, queues.intake] as Queue[]) {
    for (let start = 0; ; start += 500) {
      const jobs = (await queue.getJobs([...STATES], start, start + 499, true)) as Job<{ sealed: string }>[];
      for (const job of jobs) {
        const kid = sealedKeyId(job.data.sealed);
        if (kid === newest.id) {
          current++;
          continue;
        }
        try {
          const plaintext = open(job.data.sealed, keys, job.id ?? '');
          await job.updateData({ ...job.data, sealed: seal(plaintext, newest, job.id ?? '') });
          rekeyed++;
        } catch {
          if (kid) stillUsed.add(kid);
        }
      }
      if (jobs.length < 500) break;
    }
    const active = (await queue.getActive()) as Job<{ sealed: string }>[];
    for (const job of active) {
      const kid = sealedKeyId(job.data.sealed);
      if (kid && kid !== newest.id) stillUsed.add(kid);
    }
  }
  const skippedActive = (await queues.revocations.getActiveCount()) + (await queues.intake.getActiveCount());
  return { rekeyed, current, skippedActive, stillUsed: [...stillUsed] };
}
