import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { randomBytes } from 'node:crypto';
import { keyFromBase64, open } from '../../src/domain/crypto.js';
import { batchId, type AcceptedToken } from '../../src/domain/revocation.js';
import { StoreUnavailableError } from '../../src/errors.js';
import { fingerprint } from '../../src/domain/fingerprint.js';
import { KEYS } from '../../src/keys.js';
import { INTAKE_JOB_OPTIONS, INTAKE_QUEUE, JOB_OPTIONS, KEY_PREFIX, QUEUE_NAME, type IntakeItem, type IntakeJobData, type RevocationJobData } from '../../src/queue/jobs.js';
import { OutcomeStore } from '../../src/queue/outcomes.js';
import { DIRECT_MAX_TOKENS, IntakeProducer } from '../../src/queue/producer.js';
import { RecordStore } from '../../src/queue/records.js';
import { connect, producerConnection } from '../../src/queue/redis.js';
import { UnsettledTokens } from '../../src/queue/unsettled.js';
import { captureLogs, type CapturedLogs } from '../support/logs.js';
import { eventually } from '../support/service.js';
import { useStack } from '../support/stack.js';

const stack = useStack({ gitlab: false, service: false });
let connection: Redis;
let queue: Queue<IntakeJobData>;
let producer: IntakeProducer;
const key = keyFromBase64(randomBytes(32).toString('base64'));

beforeEach(async () => {
  // Made as the service makes them: a fail-fast connection, a queue that does not wait for Redis.
  connection = producerConnection(stack.redis.url);
  connection.on('error', () => undefined);
  await connect(connection);
  await connection.flushall();
  queue = new Queue<IntakeJobData>(INTAKE_QUEUE, { connection, prefix: KEY_PREFIX, defaultJobOptions: INTAKE_JOB_OPTIONS, skipWaitingForReady: true });
  queue.on('error', () => undefined);
  producer = new IntakeProducer(queue, () => key);
});
afterEach(async () => {
  await queue.close();
  connection.disconnect();
});

let n = 0;
const tokens = (count: number): AcceptedToken[] => Array.from({ length: count }, () => ({ type: 'gitlab_personal_access_token', token: `glpat-producer-${++n}`, location: 'https://example.com/f#L1' }));

/** Every waiting intake job, opened: what a worker would fan out. */
async function queued(): Promise<Array<{ id: string; items: IntakeItem[] }>> {
  const jobs = await queue.getWaiting(0, -1);
  return jobs.map((j) => ({ id: j.id ?? '', items: JSON.parse(open(j.data.sealed, [key], j.id ?? '')) as IntakeItem[] }));
}

describe('IntakeProducer (group commit)', () => {
  it('writes a lone request at once, as a job named by its tokens, so a resend is absorbed', async () => {
    const batch = tokens(3);
    expect(await producer.enqueue(batch)).toEqual({ queued: 3 });
    expect(await producer.enqueue(batch)).toEqual({ queued: 3 });
    const jobs = await queued();
    expect(jobs).toHaveLength(1);
    expect(jobs[0]?.id).toBe(batchId(batch));
    expect(jobs[0]?.items.map((i) => i.token)).toEqual(batch.map((t) => t.token));
  });

  it('writes requests that arrive while a job is being written together, and each resolves only once its job is stored', async () => {
    const batches = Array.from({ length: 20 }, () => tokens(3));
    const results = await Promise.all(batches.map((b) => producer.enqueue(b)));
    expect(results.every((r) => r.queued === 3)).toBe(true);
    const jobs = await queued();
    // The first is written alone; the other 19 waited for it and went together.
    expect(jobs.length).toBeLessThan(20);
    const written = jobs.flatMap((j) => j.items.map((i) => i.token)).sort();
    expect(written).toEqual(batches.flat().map((t) => t.token).sort());
    for (const j of jobs) expect((await queue.getJob(j.id))?.data.count).toBe(j.items.length);
  });

  it('writes a token sent in two concurrent requests once', async () => {
    const [shared] = tokens(1);
    if (!shared) throw new Error('no token');
    await Promise.all([producer.enqueue(tokens(1)), producer.enqueue([shared, ...tokens(1)]), producer.enqueue([shared])]);
    const written = (await queued()).flatMap((j) => j.items.map((i) => i.token));
    expect(written.filter((t) => t === shared.token)).toHaveLength(1);
    expect(written).toHaveLength(3);
  });

  it('when one token comes in concurrent requests from different vulnerabilities, then it is written once with each of them', async () => {
    const [shared] = tokens(1);
    if (!shared) throw new Error('no token');
    await Promise.all([producer.enqueue(tokens(1)), producer.enqueue([{ ...shared, vulnerabilities: [{ id: 1 }] }]), producer.enqueue([{ ...shared, vulnerabilities: [{ id: 2, projectId: 9 }, { id: 1 }] }])]);
    const written = (await queued()).flatMap((j) => j.items).filter((i) => i.token === shared.token);
    expect(written.map((i) => i.vulnerabilities)).toEqual([[{ id: 1 }, { id: 2, projectId: 9 }]]);
  });

  it('closes a group at 1000 tokens, but never splits a request', async () => {
    await Promise.all([producer.enqueue(tokens(1)), producer.enqueue(tokens(600)), producer.enqueue(tokens(600)), producer.enqueue(tokens(1500))]);
    const sizes = (await queued()).map((j) => j.items.length).sort((a, b) => a - b);
    expect(sizes).toEqual([1, 600, 600, 1500]);
  });

  it('rejects every waiting request with StoreUnavailableError within seconds when Redis is down', async () => {
    await stack.redis.kill();
    try {
      const started = Date.now();
      const results = await Promise.allSettled(Array.from({ length: 10 }, () => producer.enqueue(tokens(2))));
      expect(Date.now() - started).toBeLessThan(3000);
      expect(results.every((r) => r.status === 'rejected' && r.reason instanceof StoreUnavailableError)).toBe(true);
    } finally {
      await stack.redis.start();
    }
  });
});

describe('IntakeProducer (direct admission of small groups)', () => {
  let revocations: Queue<RevocationJobData>;
  let direct: IntakeProducer;
  let outcomes: OutcomeStore;
  let records: RecordStore;
  let logs: CapturedLogs;
  beforeEach(() => {
    revocations = new Queue<RevocationJobData>(QUEUE_NAME, { connection, prefix: KEY_PREFIX, defaultJobOptions: JOB_OPTIONS, skipWaitingForReady: true });
    revocations.on('error', () => undefined);
    outcomes = new OutcomeStore(connection, 3600);
    records = new RecordStore(connection, 3600);
    logs = captureLogs('info');
    direct = new IntakeProducer(queue, () => key, undefined, { admission: { revocations, outcomes, records, unsettled: new UnsettledTokens(connection) }, logger: logs.logger });
  });
  afterEach(async () => {
    await revocations.close();
  });

  it('makes a small request its revocation jobs before it resolves: sealed, recorded, indexed, no intake job', async () => {
    const batch = tokens(3);
    expect(await direct.enqueue(batch)).toEqual({ queued: 3 });
    expect(await queued()).toEqual([]);
    for (const t of batch) {
      const fp = fingerprint(t.token);
      const job = await revocations.getJob(fp);
      expect(await job?.getState()).toBe('waiting');
      expect(job?.data).toEqual({ v: 1, fp, type: t.type, sealed: expect.stringMatching(/^v1\./), acceptedAt: expect.any(Number), location: t.location });
      expect(open(job?.data.sealed ?? '', [key], fp)).toBe(t.token);
      expect((await records.get(fp))?.state).toBe('accepted');
      expect(await connection.zscore(KEYS.unsettled, fp)).toBe(String(job?.data.acceptedAt));
    }
    expect(JSON.stringify(await connection.hgetall(`${KEY_PREFIX}:${QUEUE_NAME}:${fingerprint(batch[0]?.token ?? '')}`))).not.toContain(batch[0]?.token);
    // A resend while they wait is absorbed by the job ids.
    await direct.enqueue(batch);
    expect(await revocations.getWaitingCount()).toBe(3);
    expect(logs.records().filter((r) => r['msg'] === 'batch fanned out').map((r) => [r['tokens'], r['queued'], r['known']])).toEqual([[3, 3, 0], [3, 3, 0]]);
  });

  it(`sends a group of more than ${DIRECT_MAX_TOKENS} tokens as one intake job, for a worker to fan out`, async () => {
    const big = tokens(DIRECT_MAX_TOKENS + 1);
    await direct.enqueue(big);
    expect((await queued()).map((j) => j.items.length)).toEqual([DIRECT_MAX_TOKENS + 1]);
    expect(await revocations.getWaitingCount()).toBe(0);
  });

  it('during a flood (a group of several requests over the bound), writes even a lone small request as an intake job', async () => {
    const first = tokens(1);
    const flood = Array.from({ length: DIRECT_MAX_TOKENS + 2 }, () => tokens(1));
    // The first is written alone, directly; the others arrive meanwhile and are written together: a flood.
    await Promise.all([direct.enqueue(first), ...flood.map((b) => direct.enqueue(b))]);
    const late = tokens(1);
    await direct.enqueue(late);
    expect((await revocations.getWaiting()).map((j) => j.data.fp)).toEqual(first.map((t) => fingerprint(t.token)));
    expect((await queued()).flatMap((j) => j.items.map((i) => i.token)).sort()).toEqual([...flood.flat(), ...late].map((t) => t.token).sort());
  });

  it('queues nothing for a settled token sent again, except an intake job for the vulnerability that names it anew', async () => {
    const [settled, noted] = tokens(2);
    if (!settled || !noted) throw new Error('no token');
    for (const t of [settled, noted]) await outcomes.record(fingerprint(t.token), { status: 'revoked', via: 'admin_api', type: t.type, at: new Date().toISOString(), attempts: 1 });
    await direct.enqueue([settled, { ...noted, vulnerabilities: [{ id: 7, projectId: 3 }] }]);
    expect(await revocations.getWaitingCount()).toBe(0);
    // The fan-out worker gives the new vulnerability its note (vulnerability-feedback tests); the other needs nothing.
    expect((await queued()).map((j) => j.items)).toEqual([[{ ...noted, vulnerabilities: [{ id: 7, projectId: 3 }] }]]);
    expect(await records.vulnerabilities(fingerprint(noted.token))).toEqual([{ id: 7, projectId: 3 }]);
  });

  it('rejects with StoreUnavailableError when Redis is down, and a resend afterwards makes each job once', async () => {
    const batch = tokens(2);
    await stack.redis.kill();
    try {
      await expect(direct.enqueue(batch)).rejects.toBeInstanceOf(StoreUnavailableError);
    } finally {
      await stack.redis.start();
    }
    await eventually(async () => (await direct.enqueue(batch).then(() => true, () => false)), 'accepted once Redis is back');
    await direct.enqueue(batch);
    expect(await revocations.getWaitingCount()).toBe(2);
  });
});
