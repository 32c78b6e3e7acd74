import { Queue, UnrecoverableError, Worker } from 'bullmq';
import { KEY_PREFIX, QUEUE_NAME } from '../../src/queue/jobs.js';
import { oldestWaitingSeconds, UnsettledTokens } from '../../src/queue/unsettled.js';
import { useStack } from '../support/stack.js';

let queue: Queue;
let unsettled: UnsettledTokens;
// Before the stack's afterAll (hooks run in order): the queue closes while its Redis still runs.
afterAll(async () => {
  await queue?.close();
});
const stack = useStack({ gitlab: false, service: false });

beforeAll(() => {
  // The revocations queue, with no worker: jobs stay where the test puts them.
  queue = new Queue(QUEUE_NAME, { connection: stack.redis.client(), prefix: KEY_PREFIX });
  unsettled = new UnsettledTokens(stack.client);
});
beforeEach(async () => {
  await stack.client.flushall();
});

const MIN = 60_000;
const add = (fp: string, delay = 0) => queue.add('revoke', { fp }, { jobId: fp, ...(delay ? { delay } : {}) });

describe('oldest unsettled token', () => {
  it('counts a delayed token from its acceptance, even behind newer ones due sooner', async () => {
    const now = Date.now();
    // Retried for an hour, due again in 30 min; a newer token due in 1 min; one waiting.
    await add('fp-old', 30 * MIN);
    await add('fp-newer', MIN);
    await add('fp-waiting');
    await unsettled.accepted(['fp-old'], now - 60 * MIN);
    await unsettled.accepted(['fp-newer'], now - 5 * MIN);
    await unsettled.accepted(['fp-waiting'], now - MIN);
    expect(await oldestWaitingSeconds(queue, unsettled, now)).toBe(3600);
  });

  it('keeps the first acceptance of a token sent again, forgets it once settled, and restarts it on replay', async () => {
    const now = Date.now();
    await add('fp-t');
    await unsettled.accepted(['fp-t'], now - 10 * MIN);
    await unsettled.accepted(['fp-t'], now - MIN);
    expect(await oldestWaitingSeconds(queue, unsettled, now)).toBe(600);
    await unsettled.settled('fp-t');
    expect(await oldestWaitingSeconds(queue, unsettled, now)).toBeNull();
    await unsettled.replayed('fp-t', now - 2000);
    expect(await oldestWaitingSeconds(queue, unsettled, now)).toBe(2);
  });

  it('drops entries whose job is gone or failed, and reads on to the oldest that still waits', async () => {
    const now = Date.now();
    await unsettled.accepted(['fp-no-job'], now - 50 * MIN); // settled before the fan-out wrote its entry, say
    // Failed for good by hand, as a worker would (BullMQ's manual processing).
    await add('fp-failed');
    const worker = new Worker(QUEUE_NAME, null, { connection: { url: stack.redis.url }, prefix: KEY_PREFIX });
    const job = await worker.getNextJob('lock');
    await job?.moveToFailed(new UnrecoverableError('permanent'), 'lock', false);
    await worker.close();
    expect(await queue.getJobState('fp-failed')).toBe('failed');
    await unsettled.accepted(['fp-failed'], now - 40 * MIN);
    await add('fp-live', MIN);
    await unsettled.accepted(['fp-live'], now - 20 * MIN);
    expect(await oldestWaitingSeconds(queue, unsettled, now)).toBe(1200);
    expect(await stack.client.zrange(`${KEY_PREFIX}:unsettled`, '0', '-1')).toEqual(['fp-live']);
  });

  it('answers null when nothing waits', async () => {
    expect(await oldestWaitingSeconds(queue, unsettled)).toBeNull();
  });
});
