// Re-encrypts queued and failed tokens under the newest key, so that an older key can be retired.
import type { Job, Queue } from 'bullmq';
import type { EncryptionKey } from '../domain/crypto.js';
import type { Progress, RekeyReport } from '../domain/ports.js';
import { Resealer } from '../domain/reseal.js';
import type { IntakeJobData, RevocationJobData } from './jobs.js';

/** The states of the jobs re-sealed: every job not running (a running one is reported, and left alone). */
const STATES = ['waiting', 'delayed', 'prioritized', 'failed', 'waiting-children'] as const;
const PAGE = 500;

/**
 * For every job not running, opens its sealed payload with whichever configured key made it and seals it again
 * under the newest key, bound to the same id. A job that cannot be opened (its key is gone) is left untouched and
 * its key id reported as still used. `progress` hears of the jobs looked at, a page (500 jobs) at a time.
 */
export async function rekey(queues: { revocations: Queue<RevocationJobData>; intake: Queue<IntakeJobData> }, keys: readonly EncryptionKey[], progress?: Progress): Promise<Omit<RekeyReport, 'credentials'>> {
  const resealer = new Resealer(keys);
  const all = [queues.revocations, queues.intake] as Queue[];
  const run = { seen: 0, total: 0 };
  if (progress) {
    for (const q of all) run.total += Object.values(await q.getJobCounts(...STATES)).reduce((a, b) => a + b, 0);
    progress(0, run.total);
  }
  for (const queue of all) {
    for (let start = 0; ; start += PAGE) {
      const jobs = (await queue.getJobs([...STATES], start, start + PAGE - 1, true)) as Job<{ sealed: string }>[];
      for (const job of jobs) {
        await resealer.reseal(job.data.sealed, job.id ?? '', async (sealed) => {
          await job.updateData({ ...job.data, sealed });
          return true;
        });
      }
      run.seen += jobs.length;
      progress?.(Math.min(run.seen, run.total), run.total);
      if (jobs.length < PAGE) break;
    }
    for (const job of (await queue.getActive()) as Job<{ sealed: string }>[]) resealer.skip(job.data.sealed);
  }
  progress?.(run.total, run.total);
  const skippedActive = (await queues.revocations.getActiveCount()) + (await queues.intake.getActiveCount());
  return { ...resealer.report(), skippedActive };
}
