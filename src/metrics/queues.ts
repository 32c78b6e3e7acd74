// The gauges read from Redis at scrape time: jobs per queue and state, the oldest waiting token's age, the breakers.
// What they read comes through a port (src/queue/readings.ts answers it), so the metrics import no queue code.
import type { QueueReadings } from '../domain/ports.js';
import type { Metrics } from './index.js';

/** Registers the queue and breaker collectors; returns what closes the readings. */
export function watchQueues(metrics: Metrics, readings: QueueReadings, queueNames: readonly string[], knownBreakers: readonly string[]): () => Promise<void> {
  metrics.onScrape(async () => {
    await Promise.all(queueNames.map((name) => collectQueue(metrics, readings, name)));
  });
  // Reasons seen once are reported 0 when nothing waits for them any more, so that a drained wait is a 0, not a gap.
  const reasons = new Set<string>();
  metrics.onScrape(async () => {
    const waiting = await readings.waiting();
    for (const why of Object.keys(waiting)) reasons.add(why);
    for (const why of reasons) metrics.tokensWaiting.set({ why }, waiting[why] ?? 0);
  });
  // Breakers seen (configured or once open) are reported 0 when closed, so that a closed breaker is a 0, not a gap.
  const seen = new Set(knownBreakers);
  metrics.onScrape(async () => {
    const open = new Set(await readings.openBreakers());
    for (const name of open) seen.add(name);
    for (const name of seen) metrics.breakerOpen.set({ breaker: name }, open.has(name) ? 1 : 0);
  });
  return () => readings.close();
}

async function collectQueue(metrics: Metrics, readings: QueueReadings, name: string): Promise<void> {
  const q = await readings.queue(name);
  for (const [state, count] of Object.entries(q.jobs)) metrics.jobs.set({ queue: name, state }, count);
  metrics.oldestWaitingAge.set({ queue: name }, q.oldestWaitingSeconds ?? 0);
}
