// Self-rotation of our GitLab credentials, in-process against the simulator: on approaching expiry, on a period, on
// each endpoint kind, and every way a rotation can go wrong short of a crash (see credential-crash.test.ts).
import request from 'supertest';
import { makeToken } from '../../simulator/index.js';
import { API_TOKEN, eventually, item, type TestService } from '../support/service.js';
import { useStack } from '../support/stack.js';

// Each test starts its own services (stopped by afterEach), with a credential of its own.
const stack = useStack({ service: false });
const running: TestService[] = [];

const DAY = 86_400_000;
const inDays = (d: number): string => new Date(Date.now() + d * DAY).toISOString().slice(0, 10);
const ROTATE = '/api/v4/personal_access_tokens/self/rotate';

afterEach(async () => {
  await Promise.all(running.splice(0).map((s) => s.stop()));
  stack.gitlab.reset();
  await stack.client.flushall();
});

/** An admin credential of our own at the simulator (not the simulator's default one). */
function adminCredential(opts: { expiresAt?: string | null; scopes?: string[]; subkind?: 'personal' | 'project' | 'group'; projectId?: number; groupId?: number } = {}): string {
  const token = makeToken('personal_access_token');
  stack.gitlab.seed({ token, kind: 'personal_access_token', admin: true, userId: 1, scopes: opts.scopes ?? ['api'], expiresAt: opts.expiresAt === undefined ? inDays(3) : opts.expiresAt, ...(opts.subkind ? { subkind: opts.subkind } : {}), ...(opts.projectId ? { projectId: opts.projectId } : {}), ...(opts.groupId ? { groupId: opts.groupId } : {}) });
  return token;
}

async function start(admin: string, env: Record<string, string> = {}): Promise<TestService> {
  const svc = await stack.startService({ GITLAB_ADMIN_TOKEN: admin, GITLAB_ADMIN_TOKEN_ROTATION: 'personal', CREDENTIAL_CHECK_SECONDS: '0.2', ...env });
  running.push(svc);
  return svc;
}

const rotations = (route = ROTATE) => stack.gitlab.calls({ route, method: 'POST' });
const stored = () => stack.client.hgetall(`trapi:credential:${new URL(stack.gitlab.url).host.replace(/[^a-z0-9_.-]/g, '-')}:admin`);
const alerts = (svc: TestService) => svc.logs.records().filter((l) => l['alert'] === true);

/** Submits a fresh leaked PAT and waits until it is revoked: proof that the credential in use works. */
async function revokesWithCurrentCredential(svc: TestService): Promise<void> {
  const leaked = stack.gitlab.createToken('personal_access_token');
  const res = await request(svc.url).post('/v1/revoke_tokens').set('Authorization', API_TOKEN).send([item(leaked)]);
  expect(res.status).toBe(204);
  await eventually(() => stack.gitlab.stateOf(leaked) === 'revoked', 'the leaked token to be revoked');
}

test('a credential expiring within the window is rotated once, stored sealed, and used from then on', async () => {
  const admin = adminCredential({ expiresAt: inDays(3) });
  const svc = await start(admin);
  await eventually(async () => (await stored())['generation'] === '2', 'the rotated credential to be stored');
  await new Promise((r) => setTimeout(r, 600)); // three more checks: none may rotate again
  expect(rotations().map((c) => c.status)).toEqual([200]);
  expect(stack.gitlab.stateOf(admin)).toBe('revoked');
  expect(stack.gitlab.revokedTokens().filter((r) => r.by === 'family')).toEqual([]);
  const h = await stored();
  expect(h['expiresAt']).toBe(inDays(30));
  expect(h['current']).toMatch(/^v1\./);
  expect(JSON.stringify(h)).not.toContain(admin);
  await revokesWithCurrentCredential(svc);
  expect(stack.gitlab.calls({ route: '/api/v4/admin/token', status: 401 })).toEqual([]);
  // Observable: status and metrics.
  const metrics = await request(svc.url).get('/metrics');
  expect(metrics.text).toMatch(/trapi_credential_last_rotation_timestamp_seconds\{credential="[^"]+:admin"\} \d+/);
  expect(metrics.text).toMatch(/trapi_credential_expiry_timestamp_seconds\{credential="[^"]+:admin"\} \d+/);
  expect(metrics.text).toMatch(/trapi_credential_rotations_total\{credential="[^"]+:admin",result="rotated"\} 1/);
  expect(metrics.text).toMatch(/trapi_credential_generation\{credential="[^"]+:admin"\} 2/);
});

test('revocations in flight while the credential rotates are retried with the successor, never held behind a breaker', async () => {
  const admin = adminCredential({ expiresAt: inDays(3) });
  stack.gitlab.setLatency(40);
  const leaked = Array.from({ length: 60 }, () => stack.gitlab.createToken('personal_access_token'));
  const svc = await stack.startService({ GITLAB_ADMIN_TOKEN: admin, GITLAB_ADMIN_TOKEN_ROTATION: 'personal', CREDENTIAL_CHECK_SECONDS: '0.2', STRATEGY_ORDER: 'admin', BREAKER_RECHECK_SECONDS: '60' });
  running.push(svc);
  // Submitted in small batches across the rotation, so some identify calls carry the predecessor after GitLab revoked it.
  for (let i = 0; i < leaked.length; i += 5) {
    await request(svc.url).post('/v1/revoke_tokens').set('Authorization', API_TOKEN).send(leaked.slice(i, i + 5).map((t) => item(t))).expect(204);
    await new Promise((r) => setTimeout(r, 15));
  }
  await eventually(() => leaked.every((t) => stack.gitlab.stateOf(t) === 'revoked'), 'every leaked token revoked', 20_000);
  expect(rotations().map((c) => c.status)).toEqual([200]);
  // With a 60 s breaker re-check, an opened breaker would have held tokens far past the wait above; say so plainly too.
  expect(await stack.client.hgetall('trapi:breakers')).toEqual({});
  expect(svc.logs.records().filter((l) => String(l['msg']).includes('breaker OPEN'))).toEqual([]);
});

test('a credential far from expiry is not rotated, but its expiry is read and reported', async () => {
  const admin = adminCredential({ expiresAt: inDays(60) });
  const svc = await start(admin);
  await eventually(async () => (await stored())['expiresAt'] === inDays(60), 'the expiry to be recorded');
  await new Promise((r) => setTimeout(r, 500));
  expect(rotations()).toEqual([]);
  expect(stack.gitlab.stateOf(admin)).toBe('active');
  await revokesWithCurrentCredential(svc);
});

test('rotation is opt-in: with it off, an expiring credential raises an alert and is left alone', async () => {
  const admin = adminCredential({ expiresAt: inDays(2) });
  const svc = await start(admin, { GITLAB_ADMIN_TOKEN_ROTATION: 'off' });
  await eventually(() => alerts(svc).some((l) => l['reason'] === 'expiring_without_rotation'), 'an alert about the expiring credential');
  expect(rotations()).toEqual([]);
  expect(stack.gitlab.stateOf(admin)).toBe('active');
});

test('a period rotates again and again, each time from the newest token, never touching a rotated one', async () => {
  const admin = adminCredential({ expiresAt: inDays(90) });
  await start(admin, { CREDENTIAL_ROTATION_PERIOD_DAYS: String(0.5 / 86_400) }); // every half second
  await eventually(async () => Number((await stored())['generation']) >= 4, 'three rotations', 20_000);
  const calls = rotations();
  expect(calls.every((c) => c.status === 200)).toBe(true);
  expect(stack.gitlab.revokedTokens().filter((r) => r.by === 'family')).toEqual([]);
  expect(stack.gitlab.revokedTokens().filter((r) => r.by === 'rotate').length).toBe(calls.length);
});

test('a credential without the api or self_rotate scope is never sent to rotate: alert, rotation breaker, still in use', async () => {
  const admin = adminCredential({ expiresAt: inDays(3), scopes: ['read_api', 'admin_mode'] });
  const svc = await start(admin);
  await eventually(() => alerts(svc).some((l) => l['reason'] === 'insufficient_scope'), 'an insufficient_scope alert');
  const breakers = await stack.client.hgetall('trapi:breakers');
  expect(Object.keys(breakers).some((k) => k.endsWith(':admin:rotation'))).toBe(true);
  expect(JSON.parse(Object.entries(breakers).find(([k]) => k.endsWith(':admin:rotation'))?.[1] ?? '{}').reason).toBe('insufficient_scope');
  expect(rotations()).toEqual([]);
  expect(stack.gitlab.stateOf(admin)).toBe('active');
  const readiness = await request(svc.url).get('/-/readiness');
  expect(readiness.status).toBe(200);
  expect(readiness.body.status).toBe('degraded');
  expect(Object.entries(readiness.body.checks).find(([k]) => k.endsWith(':admin:rotation'))?.[1]).toMatch(/^cannot be rotated since .* \(insufficient_scope\)$/);
  expect(JSON.parse((await stored())['problem'] ?? '{}').reason).toBe('insufficient_scope');
});

test('GitLab refusing the rotation (403 insufficient_scope) leaves the credential as it was, and says why', async () => {
  const admin = adminCredential({ expiresAt: inDays(3) });
  stack.gitlab.faults.failUntilCleared(403, { method: 'POST', path: ROTATE, body: { error: 'insufficient_scope', error_description: 'The request requires higher privileges than provided by the access token.', scope: 'api self_rotate' } });
  const svc = await start(admin);
  await eventually(() => alerts(svc).some((l) => l['reason'] === 'insufficient_scope'), 'an alert naming the refusal');
  expect(stack.gitlab.stateOf(admin)).toBe('active');
  expect((await stored())['intent']).toBeUndefined();
  await revokesWithCurrentCredential(svc);
  // Once GitLab lets it, the next check rotates and closes the rotation breaker.
  stack.gitlab.faults.clear();
  await eventually(async () => (await stored())['generation'] === '2', 'the rotation once allowed');
  await eventually(async () => !Object.keys(await stack.client.hgetall('trapi:breakers')).some((k) => k.endsWith(':rotation')), 'the rotation breaker to close');
});

test('a rotation request lost before GitLab saw it: recovered by reading the old token, then rotated once', async () => {
  const admin = adminCredential({ expiresAt: inDays(3) });
  stack.gitlab.faults.dropNext(1, { method: 'POST', path: ROTATE });
  await start(admin);
  await eventually(async () => (await stored())['generation'] === '2', 'the rotation after the lost request');
  expect(rotations().map((c) => c.status)).toEqual([0, 200]);
  expect(stack.gitlab.revokedTokens().filter((r) => r.by === 'family')).toEqual([]);
});

test('a rotation answer lost after GitLab rotated: never rotated again, breaker and alert, until a new credential is configured', async () => {
  const admin = adminCredential({ expiresAt: inDays(3) });
  stack.gitlab.faults.dropAfterNext(1, { method: 'POST', path: ROTATE });
  const svc = await start(admin);
  await eventually(async () => (await stored())['lost'] !== undefined, 'the loss to be recorded');
  await new Promise((r) => setTimeout(r, 600));
  expect(rotations().map((c) => c.status)).toEqual([0]); // one call, the lost one: no blind retry
  expect(stack.gitlab.revokedTokens().filter((r) => r.by === 'family')).toEqual([]); // the lost successor's family is intact
  expect(alerts(svc).some((l) => l['reason'] === 'rotation_answer_lost')).toBe(true);
  const breakers = await stack.client.hgetall('trapi:breakers');
  expect(Object.entries(breakers).some(([k, v]) => k.endsWith(':admin') && JSON.parse(v).reason === 'rotation_answer_lost')).toBe(true);
  // Tokens are held, not failed, while the credential is gone.
  const leaked = stack.gitlab.createToken('personal_access_token');
  expect((await request(svc.url).post('/v1/revoke_tokens').set('Authorization', API_TOKEN).send([item(leaked)])).status).toBe(204);
  await svc.stop();
  running.splice(0);
  // The operator creates a new admin token and configures it: it is adopted, and the held token is revoked.
  const replacement = adminCredential({ expiresAt: inDays(60) });
  await start(replacement);
  await eventually(() => stack.gitlab.stateOf(leaked) === 'revoked', 'the held token to be revoked with the new credential');
  const h = await stored();
  expect(h['lost']).toBeUndefined();
});

test('a rotate request GitLab executes after our timeout: one call, the late rotation detected as a lost answer, no retry', async () => {
  const admin = adminCredential({ expiresAt: inDays(3) });
  // Our call gives up at 500 ms; GitLab rotates at 800 ms, inside the two call timeouts the rotator waits before
  // concluding that a request without an answer was never executed.
  stack.gitlab.faults.slowNext(1, 800, { method: 'POST', path: ROTATE });
  const svc = await start(admin, { GITLAB_TIMEOUT_MS: '500' });
  await eventually(async () => (await stored())['lost'] !== undefined, 'the late rotation to be recognised as a lost answer');
  await new Promise((r) => setTimeout(r, 1500)); // several more checks: none may send a second rotate call
  const calls = rotations();
  expect(calls.map((c) => [c.status, c.fault])).toEqual([[200, 'slow']]); // GitLab did rotate, once
  expect(stack.gitlab.stateOf(admin)).toBe('revoked');
  expect(stack.gitlab.revokedTokens().filter((r) => r.by === 'family')).toEqual([]); // no reuse of the old token, so no family revocation
  expect(alerts(svc).some((l) => l['reason'] === 'rotation_answer_lost')).toBe(true);
});

test('a rotator whose lock lapsed while GitLab answered hands its successor to the new lock holder, which promotes it', async () => {
  const admin = adminCredential({ expiresAt: inDays(3) });
  stack.gitlab.setLatency(300);
  const key = `trapi:credential:${new URL(stack.gitlab.url).host.replace(/[^a-z0-9_.-]/g, '-')}:admin`;
  const svc = await start(admin, { CREDENTIAL_CHECK_SECONDS: '0.2' });
  // Once the rotate request is at GitLab, play a process that took the lock over and wrote under a later fence.
  await eventually(async () => (await stack.client.hget(key, 'intent')) !== null, 'the rotation to start', 10_000);
  const fence = await stack.client.incr(`${key}:fences`);
  await stack.client.hset(key, 'fence', String(fence + 1000));
  await eventually(() => svc.logs.records().some((l) => l['reason'] === 'rotation_fenced_out'), 'the fenced-out rotator to notice');
  expect(String(svc.logs.records().find((l) => l['reason'] === 'rotation_fenced_out')?.['msg'])).toContain('the successor is stored for it to promote');
  expect(await stack.client.hget(key, 'candidate')).toMatch(/^v1\./);
  // The "other process" never finishes: the service's next check, under a later fence, recovers the successor.
  await stack.client.hset(key, 'fence', '0');
  stack.gitlab.setLatency(0);
  await eventually(async () => (await stored())['generation'] === '2', 'the rescued successor promoted');
  expect(rotations().map((c) => c.status)).toEqual([200]);
  expect(stack.gitlab.stateOf(admin)).toBe('revoked');
  await revokesWithCurrentCredential(svc);
});

test('project and group access tokens rotate at their own endpoints', async () => {
  const project = adminCredential({ expiresAt: inDays(1), subkind: 'project', projectId: 42 });
  await start(project, { GITLAB_ADMIN_TOKEN_ROTATION: 'project:42' });
  await eventually(async () => (await stored())['generation'] === '2', 'the project token rotation');
  expect(rotations('/api/v4/projects/:id/access_tokens/self/rotate').map((c) => c.status)).toEqual([200]);
  await Promise.all(running.splice(0).map((s) => s.stop()));
  await stack.client.flushall();

  const group = adminCredential({ expiresAt: inDays(1), subkind: 'group', groupId: 7 });
  await start(group, { GITLAB_ADMIN_TOKEN_ROTATION: 'group:7' });
  await eventually(async () => (await stored())['generation'] === '2', 'the group token rotation');
  expect(rotations('/api/v4/groups/:id/access_tokens/self/rotate').map((c) => c.status)).toEqual([200]);
});

test('the wrong endpoint for the kind of token (405) is a clear refusal, not a lockout', async () => {
  const admin = adminCredential({ expiresAt: inDays(3) });
  const svc = await start(admin, { GITLAB_ADMIN_TOKEN_ROTATION: 'group:7' });
  await eventually(() => alerts(svc).some((l) => String(l['msg']).includes('GitLab refused the rotation')), 'an alert naming the refusal');
  expect(stack.gitlab.stateOf(admin)).toBe('active');
  await revokesWithCurrentCredential(svc);
});

test('after the group credential is self-rotated, deploy tokens are revoked through the group strategy with its successor', async () => {
  const GROUP_ID = 4343;
  const owner = makeToken('personal_access_token');
  stack.gitlab.seed({ token: owner, kind: 'personal_access_token', userId: 77, name: 'group-owner', ownedGroupIds: [GROUP_ID], scopes: ['api'], expiresAt: inDays(3) });
  const svc = await start(stack.gitlab.adminToken, { GITLAB_ADMIN_TOKEN_ROTATION: 'off', STRATEGY_ORDER: 'group', GITLAB_GROUP_ID: String(GROUP_ID), GITLAB_GROUP_TOKEN: owner, GITLAB_GROUP_TOKEN_ROTATION: 'personal' });
  const storedGroup = () => stack.client.hgetall(`trapi:credential:${new URL(stack.gitlab.url).host.replace(/[^a-z0-9_.-]/g, '-')}:group`);
  await eventually(async () => (await storedGroup())['generation'] === '2', 'the group credential rotation');
  // GitLab revoked the configured token when it rotated: only the successor can revoke now.
  expect(stack.gitlab.stateOf(owner)).toBe('revoked');
  const leaked = [stack.gitlab.createToken('deploy_token', { groupId: GROUP_ID }), stack.gitlab.createToken('deploy_token', { groupId: GROUP_ID })];
  const res = await request(svc.url).post('/v1/revoke_tokens').set('Authorization', API_TOKEN).send(leaked.map((t) => item(t, 'gitleaks_rule_id_gitlab_deploy_token')));
  expect(res.status).toBe(204);
  await eventually(() => leaked.every((t) => stack.gitlab.stateOf(t) === 'revoked'), 'both deploy tokens revoked through the group strategy');
  expect(stack.gitlab.calls({ route: '/api/v4/groups/:id/tokens/revoke' }).map((c) => c.status)).toEqual([200, 200]);
  expect(svc.logs.records().filter((l) => String(l['msg']).includes('breaker OPEN'))).toEqual([]);
});
