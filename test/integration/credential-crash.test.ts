// Self-rotation of the admin credential across real processes: two replicas racing for one rotation, and a process
// killed (SIGKILL) at the two worst moments of a rotation. The in-process cases are in credential-rotation.test.ts.
import type { Redis } from 'ioredis';
import request from 'supertest';
import { makeToken } from '../../simulator/index.js';
import { killAll, type ServiceProcess } from '../support/process.js';
import { inspectQueue } from '../support/queue.js';
import { API_TOKEN, eventually, item } from '../support/service.js';
import { useStack } from '../support/stack.js';

// No in-process service: each test spawns its own processes, and afterEach kills what is left.
const stack = useStack({ service: false });
/** A second client, only for CLIENT PAUSE / UNPAUSE, so that the stack's client stays free for assertions. */
let pauser: Redis;

const DAY = 86_400_000;
const inDays = (d: number): string => new Date(Date.now() + d * DAY).toISOString().slice(0, 10);
const ROTATE = '/api/v4/personal_access_tokens/self/rotate';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

beforeAll(() => {
  pauser = stack.redis.client();
});
afterEach(async () => {
  await killAll();
  await pauser.call('CLIENT', 'UNPAUSE'); // a failed test must not leave Redis refusing writes (FLUSHALL is one)
  stack.gitlab.reset(); // also sets the latency back to 0
  await stack.client.flushall();
});

/** An admin credential of our own at the simulator (not the simulator's default one). */
function adminCredential(expiresAt = inDays(3)): string {
  const token = makeToken('personal_access_token');
  stack.gitlab.seed({ token, kind: 'personal_access_token', admin: true, userId: 1, scopes: ['api'], expiresAt });
  return token;
}

/** The built service as a child process, self-rotating its admin credential and checking it five times a second. */
function spawn(admin: string, env: Record<string, string> = {}): ServiceProcess {
  return stack.spawn({ GITLAB_ADMIN_TOKEN: admin, GITLAB_ADMIN_TOKEN_ROTATION: 'personal', CREDENTIAL_CHECK_SECONDS: '0.2', ...env });
}

const credentialName = () => `${new URL(stack.gitlab.url).host.replace(/[^a-z0-9_.-]/g, '-')}:admin`;
const rotations = () => stack.gitlab.calls({ route: ROTATE, method: 'POST' });
const familyRevocations = () => stack.gitlab.revokedTokens().filter((r) => r.by === 'family');
const stored = () => stack.client.hgetall(`trapi:credential:${credentialName()}`);
const alerts = (p: ServiceProcess) => p.logs().filter((l) => l['alert'] === true);

/** The generation this process says it uses (`trapi_credential_generation`), or undefined when it reports none. */
async function generationIn(url: string): Promise<number | undefined> {
  const res = await request(url).get('/metrics');
  const name = credentialName().replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const m = new RegExp(`^trapi_credential_generation\\{credential="${name}"\\} (\\d+)$`, 'm').exec(res.text);
  return m ? Number(m[1]) : undefined;
}

/** Fresh leaked PATs submitted to `url`, each revoked at the simulator: proof that the credential in use works. */
async function revokesLeakedTokens(url: string, count = 1): Promise<void> {
  const leaked = Array.from({ length: count }, () => stack.gitlab.createToken('personal_access_token'));
  const res = await request(url).post('/v1/revoke_tokens').set('Authorization', API_TOKEN).send(leaked.map((t) => item(t)));
  expect(res.status).toBe(204);
  await eventually(() => leaked.every((t) => stack.gitlab.stateOf(t) === 'revoked'), `the tokens leaked to ${url} to be revoked`);
}

async function failedJobs(): Promise<number> {
  const queues = [inspectQueue(stack.redis.url), inspectQueue(stack.redis.url, 'intake')];
  try {
    return (await Promise.all(queues.map((q) => q.getFailedCount()))).reduce((a, b) => a + b, 0);
  } finally {
    await Promise.all(queues.map((q) => q.close()));
  }
}

test('two replicas racing for one rotation: exactly one rotate call, and both then use the new credential', async () => {
  const admin = adminCredential(inDays(3));
  stack.gitlab.setLatency(150); // every check holds the lock for a while, so the replicas' checks overlap
  // Until both replicas run, GitLab cannot tell them the expiry: neither may rotate before the other is there to race.
  const gate = stack.gitlab.faults.failUntilCleared(503, { method: 'GET', path: '/api/v4/personal_access_tokens/self' });
  const replicas = [spawn(admin), spawn(admin)];
  const urls = await Promise.all(replicas.map((p) => p.started()));
  expect(rotations()).toEqual([]);
  stack.gitlab.faults.remove(gate);

  await eventually(async () => (await stored())['generation'] === '2', 'the rotated credential to be stored');
  await sleep(2000); // ten more checks per replica: none may rotate again
  expect(rotations().map((c) => c.status)).toEqual([200]);
  expect(familyRevocations()).toEqual([]);
  expect(stack.gitlab.stateOf(admin)).toBe('revoked');
  const h = await stored();
  expect(h['generation']).toBe('2');
  expect(h['intent']).toBeUndefined();
  expect(h['candidate']).toBeUndefined();

  // Each replica follows the store (every 2 s) to the new generation, and revokes with it.
  for (const url of urls) await eventually(async () => (await generationIn(url)) === 2, `${url} to use generation 2`);
  stack.gitlab.setLatency(0);
  await Promise.all(urls.map((url) => revokesLeakedTokens(url, 3)));
  expect(await failedJobs()).toBe(0);
  expect(stack.gitlab.calls({ route: '/api/v4/admin/token', status: 401 })).toEqual([]);
  expect(rotations()).toHaveLength(1);
}, 40_000);

test('killed after GitLab answered, before the rotation was committed: the next process promotes the stored successor', async () => {
  const admin = adminCredential(inDays(3));
  stack.gitlab.setLatency(1000);
  const env = { GITLAB_TIMEOUT_MS: '3000' }; // lock: 4 × 3 s + 2 s = 14 s
  const first = spawn(admin, env);
  await first.started();
  // The successor is stored as the first thing after GitLab's answer; the verify call (1 s here) follows.
  const deadline = Date.now() + 15_000;
  while ((await stack.client.hget(`trapi:credential:${credentialName()}`, 'candidate')) === null) {
    if (Date.now() > deadline) throw new Error(`no candidate was stored:\n${first.stdout.join('\n')}`);
    await sleep(5);
  }
  first.child.kill('SIGKILL');
  await first.exited();

  const crashed = await stored();
  expect(crashed['intent']).toBeDefined();
  expect(crashed['candidate']).toBeDefined();
  expect(crashed['generation']).toBe('1');
  expect(stack.gitlab.stateOf(admin)).toBe('revoked'); // GitLab did rotate
  expect(rotations().map((c) => c.status)).toEqual([200]);
  expect(first.logs().some((l) => l['msg'] === 'credential rotated')).toBe(false); // it really died before committing

  stack.gitlab.setLatency(0);
  const second = spawn(admin, env);
  const url = await second.started();
  // It must wait for the dead process's lock to expire (up to 14 s), then finish the rotation.
  await eventually(async () => (await stored())['generation'] === '2', 'the interrupted rotation to be recovered', 25_000);
  const h = await stored();
  expect(h['intent']).toBeUndefined();
  expect(h['candidate']).toBeUndefined();
  expect(h['lost']).toBeUndefined();
  await eventually(() => second.logs().some((l) => String(l['msg']).startsWith('interrupted rotation recovered')), 'the recovery log line');
  expect(rotations().map((c) => c.status)).toEqual([200]); // recovered, never rotated a second time
  expect(familyRevocations()).toEqual([]);
  await eventually(async () => (await generationIn(url)) === 2, 'the new process to use generation 2');
  await revokesLeakedTokens(url);
  expect(alerts(second)).toEqual([]);
  expect(await failedJobs()).toBe(0);
}, 45_000);

test('killed before the successor could be stored: the next process detects the loss, never rotates again', async () => {
  const admin = adminCredential(inDays(3));
  stack.gitlab.setLatency(800);
  const key = `trapi:credential:${credentialName()}`;
  // Pause Redis writes while the rotate request is at GitLab, so that the answer cannot be stored. The moment is
  // read from Redis's MONITOR: right after the intent is written the rotator runs one more script (how long its lock
  // has left, a PTTL) and only then calls GitLab. A WRITE pause also holds scripts, so pausing before that one runs
  // would hold the rotate request itself: polling the hash for the intent would race with it.
  const monitor = await stack.client.monitor();
  let intentWritten = false;
  let paused: Promise<unknown> | undefined;
  monitor.on('monitor', (_time: string, args: string[]) => {
    if (args[0]?.toLowerCase() !== 'eval') return;
    if (args[3] === key && args.includes('intent') && args.some((a) => a.startsWith('{"fence"'))) intentWritten = true;
    else if (intentWritten && paused === undefined && args[3] === `${key}:lock` && args[1]?.includes('PTTL')) paused = pauser.call('CLIENT', 'PAUSE', '8000', 'WRITE');
  });
  try {
    const first = spawn(admin);
    await first.started();
    await eventually(() => paused !== undefined, 'the rotation to reach GitLab');
    await paused;
    expect((await stored())['intent']).toBeDefined();
    // GitLab rotates and answers; the process cannot write the successor while the pause lasts.
    await eventually(() => rotations().some((c) => c.status === 200), 'GitLab to answer the rotation', 6000);
    first.child.kill('SIGKILL');
    await first.exited();
    // Its candidate write, held by the pause, must be dropped with its connection, not run when the pause ends.
    await eventually(async () => !String(await stack.client.call('CLIENT', 'LIST')).split('\n').some((c) => /\bflags=\w*b/.test(c)), 'Redis to drop the dead process\'s held write');
  } finally {
    monitor.disconnect();
    await pauser.call('CLIENT', 'UNPAUSE');
  }

  const crashed = await stored();
  expect(crashed['intent']).toBeDefined();
  expect(crashed['candidate']).toBeUndefined(); // the successor existed only in the dead process's memory
  expect(crashed['generation']).toBe('1');
  expect(stack.gitlab.stateOf(admin)).toBe('revoked');

  stack.gitlab.setLatency(0);
  const second = spawn(admin);
  await second.started();
  // After the dead process's lock expires (10 s), the old token, now revoked, tells it GitLab did rotate.
  await eventually(async () => (await stored())['lost'] !== undefined, 'the loss to be recorded', 20_000);
  await eventually(() => alerts(second).some((l) => l['reason'] === 'rotation_answer_lost'), 'an alert about the lost successor');
  const breakers = await stack.client.hgetall('trapi:breakers');
  expect(JSON.parse(breakers[credentialName()] ?? '{}').reason).toBe('rotation_answer_lost');
  const h = await stored();
  expect(JSON.parse(h['lost'] ?? '{}').reason).toBe('rotation_answer_lost');
  expect(h['intent']).toBeUndefined();
  expect(h['generation']).toBe('1');

  await sleep(1000); // five more checks: none may rotate
  expect(rotations().map((c) => c.status)).toEqual([200]); // the one call of the dead process, never a second
  expect(familyRevocations()).toEqual([]); // the lost successor's family is intact
  expect(stack.gitlab.revokedTokens().map((r) => [r.token, r.by])).toEqual([[admin, 'rotate']]);
}, 45_000);
