import { randomBytes } from 'node:crypto';
import request, { type Response, type Test } from 'supertest';
import { loadConfig } from '../../src/config/index.js';
import { fingerprint } from '../../src/domain/fingerprint.js';
import { ConfigError } from '../../src/errors.js';
import { DIRECT_MAX_TOKENS } from '../../src/queue/producer.js';
import { failedReasonOf, inspectQueue } from '../support/queue.js';
import { API_TOKEN, eventually, item } from '../support/service.js';
import { useStack } from '../support/stack.js';

const ONCALL = `oncall-secret-${randomBytes(12).toString('hex')}`;
const BARE = `bare-admin-secret-${randomBytes(12).toString('hex')}`;
const DEPLOY = 'gitleaks_rule_id_gitlab_deploy_token';

/** Every admin answer of this file, scanned at the end for tokens and ciphertexts. */
const answers: Response[] = [];
/** Every token submitted, and the ciphertexts seen in the queue. */
const submitted: string[] = [];
const sealed: string[] = [];

const stack = useStack({ env: { STRATEGY_ORDER: 'admin', ADMIN_API_TOKENS: `oncall:${ONCALL}, ${BARE}` } });
afterEach(() => stack.gitlab.faults.clear());

const keep = async (t: Test): Promise<Response> => {
  const res = await t;
  answers.push(res);
  return res;
};
/** An admin request with the on-call Bearer token (or `auth` to override). */
const admin = (method: 'get' | 'post' | 'put', path: string, auth: (t: Test) => Test = (t) => t.set('Authorization', `Bearer ${ONCALL}`)) => auth(request(stack.service.url)[method](path));
const get = (path: string) => keep(admin('get', path));
const post = (path: string, body?: object) => keep(body === undefined ? admin('post', path) : admin('post', path).send(body));

/** Submits tokens that fail for good (GitLab answers 400 to every DELETE), and waits until they are in the failed set. */
async function failing(...kinds: Array<'deploy_token' | 'personal_access_token'>): Promise<string[]> {
  const tokens = kinds.map((k) => stack.gitlab.createToken(k));
  submitted.push(...tokens);
  stack.gitlab.faults.failUntilCleared(400, { method: 'DELETE', body: { message: { error: 'Cannot revoke' } } });
  await request(stack.service.url)
    .post('/v1/revoke_tokens')
    .set('Authorization', API_TOKEN)
    .send(tokens.map((t, i) => item(t, kinds[i] === 'deploy_token' ? DEPLOY : undefined)))
    .expect(204);
  await eventually(async () => (await Promise.all(tokens.map((t) => failedReasonOf(stack.queue, t)))).every((r) => r !== undefined), 'tokens in the failed set');
  for (const t of tokens) sealed.push(String((await stack.queue.getJob(fingerprint(t)))?.data.sealed));
  stack.gitlab.faults.clear();
  return tokens;
}

/** A background replay (202), polled at its Location until it is done. */
async function replayed(res: Response): Promise<{ state: string; total: number; queued: number }> {
  expect(res.status).toBe(202);
  let run = res.body.replay as { state: string; total: number; queued: number };
  await eventually(async () => (run = (await get(String(res.headers['location']))).body.replay).state !== 'running', 'the replay to finish');
  expect(run.state).toBe('done');
  return run;
}

const prefix = (token: string, n = 12) => fingerprint(token).slice(0, n);

describe('admin credentials', () => {
  it.each<[string, (t: Test) => Test]>([
    ['no credential', (t) => t],
    ['a wrong Bearer token', (t) => t.set('Authorization', 'Bearer not-the-admin-token-at-all')],
    ["GitLab's token as Bearer", (t) => t.set('Authorization', `Bearer ${API_TOKEN}`)],
    ["GitLab's token raw", (t) => t.set('Authorization', API_TOKEN)],
    ["GitLab's token in X-Gitlab-Token", (t) => t.set('X-Gitlab-Token', API_TOKEN)],
    ["GitLab's token as Basic password", (t) => t.auth('oncall', API_TOKEN)],
    ['the admin token raw, without Bearer', (t) => t.set('Authorization', ONCALL)],
    ['the admin token as a Basic user name', (t) => t.auth(ONCALL, '')],
    ['a wrong Basic password', (t) => t.auth('oncall', `${ONCALL}x`)],
  ])('answers 401 with a Basic challenge to %s', async (_name, auth) => {
    for (const path of ['/admin/status', '/admin/queues', '/admin/queues/api/queues']) {
      const res = await keep(admin('get', path, auth));
      expect(res.status).toBe(401);
      expect(res.headers['www-authenticate']).toMatch(/^Basic realm="trapi admin"/);
      expect(res.body).toEqual({ error: 'unauthorized', message: expect.any(String) });
    }
    expect((await keep(admin('post', '/admin/replay', auth).send({ all: true }))).status).toBe(401);
  });

  it('accepts an admin token as Bearer or as the Basic password, with any user name', async () => {
    for (const auth of [(t: Test) => t.set('Authorization', `Bearer ${ONCALL}`), (t: Test) => t.set('Authorization', `bearer ${BARE}`), (t: Test) => t.auth('oncall', ONCALL), (t: Test) => t.auth('anyone', BARE)]) {
      const res = await keep(admin('get', '/admin/status', auth));
      expect(res.status).toBe(200);
    }
  });

  it('keeps GitLab\'s endpoints closed to the admin token', async () => {
    await request(stack.service.url).get('/v1/revocable_token_types').set('Authorization', ONCALL).expect(401);
    await request(stack.service.url).get('/v1/revocable_token_types').set('Authorization', `Bearer ${ONCALL}`).expect(401);
  });
});

describe('admin API', () => {
  let deploy: string;
  let pat: string;

  it('GET /admin/status: job counts per queue, breakers, workers, paused', async () => {
    const res = await get('/admin/status');
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ jobs: { revocations: expect.objectContaining({ failed: expect.any(Number) }), intake: expect.any(Object) }, oldestWaitingSeconds: { revocations: null, intake: null }, breakers: {}, paused: false });
    expect(res.body.workers).toEqual(expect.any(Number));
  });

  it('GET /admin/failed lists failed tokens with their reasons, and filters them', async () => {
    const before = Date.now() - 1000;
    [deploy = '', pat = ''] = await failing('deploy_token', 'personal_access_token');
    const all = await get('/admin/failed');
    expect(all.status).toBe(200);
    expect(all.body.failed).toHaveLength(2);
    expect(all.body.failed).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ fingerprint: fingerprint(deploy), type: DEPLOY, reason: expect.stringMatching(/^http_400/), failedAt: expect.any(String), attempts: expect.any(Number) }),
        expect.objectContaining({ fingerprint: fingerprint(pat), type: 'gitleaks_rule_id_gitlab_personal_access_token', reason: expect.stringMatching(/^http_400/) }),
      ]),
    );
    const fps = async (query: string) => ((await get(`/admin/failed?${query}`)).body.failed as Array<{ fingerprint: string }>).map((t) => t.fingerprint);
    expect(await fps(`type=${DEPLOY}`)).toEqual([fingerprint(deploy)]);
    expect(await fps('reason=http_400')).toHaveLength(2);
    expect(await fps('reason=no_strategy_available')).toEqual([]);
    expect(await fps(`since=${new Date(before).toISOString()}`)).toHaveLength(2);
    expect(await fps(`since=${new Date(Date.now() + 60_000).toISOString()}`)).toEqual([]);
    expect(await fps(`since=${before}`)).toHaveLength(2);
    // A single-instance setup names its instance too (the host of GITLAB_URL), so the filter selects them.
    const instance = new URL(stack.gitlab.url).host.toLowerCase().replace(/[^a-z0-9_.-]/g, '-');
    expect((all.body.failed as Array<{ instance?: string }>).map((t) => t.instance)).toEqual([instance, instance]);
    expect(await fps(`instance=${encodeURIComponent(instance)}`)).toHaveLength(2);
    expect(await fps('instance=elsewhere')).toEqual([]);
    const metrics = await request(stack.service.url).get('/metrics');
    expect(metrics.text).toContain(`trapi_revocation_outcomes_total{instance="${instance}",strategy="none",outcome="failed"} 2`);

    const bad = await get('/admin/failed?since=yesterday-ish');
    expect(bad.status).toBe(400);
    expect(bad.body.error).toBe('invalid_request');
    expect((await get('/admin/failed?type=a&type=b')).status).toBe(400);
    expect((await get('/admin/status')).body.jobs.revocations.failed).toBe(2);
  });

  it('GET /admin/tokens/:fingerprint shows a record by prefix, with its job', async () => {
    const res = await get(`/admin/tokens/${prefix(deploy, 8)}`);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ fingerprint: fingerprint(deploy), type: DEPLOY, state: 'failed', job: { state: 'failed', failedReason: expect.stringMatching(/^http_400/) } });
    expect((await get(`/admin/tokens/${fingerprint(pat)}`)).body.fingerprint).toBe(fingerprint(pat));
    const unknown = await get('/admin/tokens/0123456789abcdef');
    expect(unknown.status).toBe(404);
    expect(unknown.body.error).toBe('not_found');
    const bad = await get('/admin/tokens/not-hex');
    expect(bad.status).toBe(400);
    expect(bad.body.error).toBe('invalid_request');
    expect((await post(`/admin/tokens/${prefix(deploy)}`, {})).status).toBe(405);
  });

  it('POST /admin/replay validates its body', async () => {
    for (const body of [{}, { all: false }, { fingerprint: 'xyz' }, { filter: {} }, { filter: { colour: 'red' } }, { all: true, fingerprint: prefix(deploy) }, [], { filter: { since: 'soon' } }]) {
      const res = await post('/admin/replay', body);
      expect({ body, status: res.status, error: res.body.error }).toEqual({ body, status: 400, error: 'invalid_request' });
    }
    const text = await keep(admin('post', '/admin/replay').set('Content-Type', 'text/plain').send('all'));
    expect(text.status).toBe(415);
    const missing = await post('/admin/replay', { fingerprint: '0123456789abcdef' });
    expect(missing.status).toBe(404);
    expect((await get('/admin/replay')).status).toBe(405);
    expect((await get('/admin/status')).body.jobs.revocations.failed).toBe(2);
  });

  it('POST /admin/replay {all:true} requeues every failed token once the cause is fixed; the record shows who', async () => {
    const res = await post('/admin/replay', { all: true });
    expect(res.status).toBe(202);
    expect((await replayed(res)).queued).toBe(2);
    await eventually(() => stack.gitlab.stateOf(deploy) === 'revoked' && stack.gitlab.stateOf(pat) === 'revoked', 'replayed tokens revoked at GitLab');
    await eventually(async () => (await get(`/admin/tokens/${prefix(deploy)}`)).body.state === 'revoked', 'record revoked');
    const view = await get(`/admin/tokens/${prefix(deploy)}`);
    expect(view.body.events).toEqual(expect.arrayContaining([expect.objectContaining({ event: 'replayed', actor: 'admin:oncall' })]));
    expect((await get('/admin/failed')).body.failed).toEqual([]);
    const again = await post('/admin/replay', { fingerprint: prefix(deploy) });
    expect(again.status).toBe(409);
    expect(again.body.error).toBe('not_failed');
  });

  it('POST /admin/replay {filter} and {fingerprint} requeue only what they select', async () => {
    const [d = '', p = ''] = await failing('deploy_token', 'personal_access_token');
    stack.gitlab.faults.failUntilCleared(400, { method: 'DELETE', body: { message: { error: 'Still cannot' } } });
    // While GitLab still refuses, a replay only moves the token back into the failed set.
    const byFilter = await post('/admin/replay', { filter: { type: DEPLOY, reason: 'http_400', since: new Date(Date.now() - 60_000).toISOString() } });
    expect(await replayed(byFilter)).toMatchObject({ total: 1, queued: 1 });
    expect((await get(`/admin/tokens/${prefix(d)}`)).body.events).toEqual(expect.arrayContaining([expect.objectContaining({ event: 'replayed' })]));
    await eventually(async () => (await failedReasonOf(stack.queue, d))?.includes('Still cannot') === true, 'deploy token failed again');
    stack.gitlab.faults.clear();
    const byFp = await post('/admin/replay', { fingerprint: prefix(p, 10) });
    expect(byFp.body.queued).toEqual([fingerprint(p)]);
    await eventually(() => stack.gitlab.stateOf(p) === 'revoked', 'replayed PAT revoked');
    expect(await failedReasonOf(stack.queue, d)).toMatch(/^http_400/);
    // Leave d failed for the next test.
    deploy = d;
  });

  it('POST /admin/tokens/:fingerprint/resolve settles a failed token with a reason, recorded under the configured name', async () => {
    const path = `/admin/tokens/${prefix(deploy)}/resolve`;
    expect((await post(path, {})).status).toBe(400);
    expect((await post(path, { reason: '   ' })).status).toBe(400);
    // Basic with a user-typed name: the actor is the configured name of the matching token.
    const res = await keep(admin('post', path, (t) => t.auth('someone-else', ONCALL)).send({ reason: 'revoked by hand in GitLab' }));
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ fingerprint: fingerprint(deploy), state: 'resolved' });
    expect(res.body.job).toBeUndefined();
    expect(res.body.events[0]).toMatchObject({ event: 'resolved', actor: 'admin:oncall', detail: 'revoked by hand in GitLab' });
    expect(await stack.queue.getJob(fingerprint(deploy))).toBeUndefined(); // and with it the ciphertext
    const again = await post(path, { reason: 'twice' });
    expect(again.status).toBe(409);
    expect(again.body.error).toBe('not_failed');
  });

  it('GET /admin/audit lists operator actions, newest first, by fingerprint prefix, time and count', async () => {
    const res = await get(`/admin/audit?fingerprint=${prefix(deploy, 8)}`);
    expect(res.status).toBe(200);
    const actions = (res.body.entries as Array<{ action: string; actor: string; fingerprint: string }>).filter((e) => e.actor.startsWith('admin:'));
    expect(actions[0]).toMatchObject({ action: 'resolve', actor: 'admin:oncall', fingerprint: fingerprint(deploy), detail: 'revoked by hand in GitLab', at: expect.any(String) });
    expect(actions.map((e) => e.action)).toEqual(['resolve', 'replay']);
    expect((res.body.entries as Array<{ fingerprint: string }>).every((e) => e.fingerprint === fingerprint(deploy))).toBe(true);
    expect((await get('/admin/audit?limit=1')).body.entries).toHaveLength(1);
    expect((await get(`/admin/audit?since=${new Date(Date.now() + 60_000).toISOString()}`)).body.entries).toEqual([]);
    expect((await get('/admin/audit?limit=0')).status).toBe(400);
    expect((await get('/admin/audit?fingerprint=0123456789abcdef')).status).toBe(404);
  });

  it('POST /admin/pause and /admin/resume stop and restart the revocation queue, audited', async () => {
    const paused = await keep(admin('post', '/admin/pause', (t) => t.auth('x', BARE)));
    expect(paused.body).toEqual({ paused: true });
    expect((await get('/admin/status')).body.paused).toBe(true);
    const token = stack.gitlab.createToken('personal_access_token');
    submitted.push(token);
    await request(stack.service.url).post('/v1/revoke_tokens').set('Authorization', API_TOKEN).send([item(token)]).expect(204);
    await new Promise((r) => setTimeout(r, 500));
    expect(stack.gitlab.stateOf(token)).toBe('active');
    expect((await post('/admin/resume')).body).toEqual({ paused: false });
    await eventually(() => stack.gitlab.stateOf(token) === 'revoked', 'revoked after resume');
    const entries = (await get('/admin/audit?limit=10')).body.entries as Array<{ action: string; actor: string }>;
    expect(entries.filter((e) => e.actor !== 'service').slice(0, 2).map((e) => [e.action, e.actor])).toEqual([['resume', 'admin:oncall'], ['pause', 'admin:admin']]);
    expect((await get('/admin/resume')).status).toBe(405);
  });
});

describe('Bull Board', () => {
  let token: string;
  let fp: string;

  beforeAll(async () => {
    [token = ''] = await failing('personal_access_token');
    fp = fingerprint(token);
  });

  it('answers 200 with credentials (Basic, as a browser sends them, or Bearer) and 401 without', async () => {
    const page = await keep(admin('get', '/admin/queues', (t) => t.auth('oncall', ONCALL)));
    expect(page.status).toBe(200);
    expect(page.headers['content-type']).toMatch(/text\/html/);
    expect(page.text).toContain('/admin/queues/');
    expect(page.headers['x-powered-by']).toBeUndefined();
    // Its assets, relative to the page, are served behind the same credentials.
    const script = /src="(static\/js\/main\.[^"]+\.js)"/.exec(page.text)?.[1];
    expect(script).toBeDefined();
    const asset = await request(stack.service.url).get(`/admin/queues/${script}`).auth('oncall', ONCALL);
    expect(asset.status).toBe(200);
    expect(asset.headers['content-type']).toMatch(/javascript/);
    expect((await request(stack.service.url).get(`/admin/queues/${script}`)).status).toBe(401);
    expect((await get('/admin/queues/queue/revocations')).status).toBe(200);
    const none = await keep(request(stack.service.url).get('/admin/queues'));
    expect(none.status).toBe(401);
    expect(none.headers['www-authenticate']).toMatch(/^Basic /);
  });

  it('lists failed jobs with their data redacted: fingerprint and type, no ciphertext', async () => {
    const inQueue = String((await stack.queue.getJob(fp))?.data.sealed);
    expect(inQueue).toMatch(/^v1\./);
    const res = await get('/admin/queues/api/queues?activeQueue=revocations&status=failed&page=1');
    expect(res.status).toBe(200);
    const revocations = (res.body.queues as Array<{ name: string; readOnlyMode: boolean; jobs: Array<{ id: string; data: Record<string, unknown>; failedReason: string }> }>).find((q) => q.name === 'revocations');
    expect(revocations?.readOnlyMode).toBe(true);
    const job = revocations?.jobs.find((j) => j.id === fp);
    expect(job?.data).toEqual({ v: 1, fp, type: 'gitleaks_rule_id_gitlab_personal_access_token', location: expect.any(String), acceptedAt: expect.any(Number), sealed: '[encrypted]' });
    expect(job?.failedReason).toMatch(/^http_400/);
    expect(res.text).not.toContain(inQueue);
    expect(res.text).not.toContain(token);
    expect(res.body.queues.map((q: { name: string }) => q.name).sort()).toEqual(['intake', 'revocations']);

    const one = await get(`/admin/queues/api/queues/revocations/${fp}`);
    expect(one.status).toBe(200);
    expect(one.body.job.data.sealed).toBe('[encrypted]');
    expect(one.text).not.toContain(inQueue);
  });

  it('redacts queued intake jobs the same way', async () => {
    const intake = inspectQueue(stack.redis.url, 'intake');
    try {
      // An intake job lives only until a worker fans it out: pause the intake queue to look at one. Only a request
      // larger than DIRECT_MAX_TOKENS makes one (a smaller one becomes its revocation jobs at once).
      await intake.pause();
      const tokens = Array.from({ length: DIRECT_MAX_TOKENS + 1 }, () => stack.gitlab.createToken('personal_access_token'));
      submitted.push(...tokens);
      await request(stack.service.url).post('/v1/revoke_tokens').set('Authorization', API_TOKEN).send(tokens.map((t) => item(t))).expect(204);
      const [waiting] = await intake.getWaiting();
      const ciphertext = String(waiting?.data.sealed);
      sealed.push(ciphertext);
      const res = await get('/admin/queues/api/queues?activeQueue=intake&status=latest&page=1');
      expect(res.status).toBe(200);
      const jobs = (res.body.queues as Array<{ name: string; jobs: Array<{ data: unknown }> }>).find((q) => q.name === 'intake')?.jobs ?? [];
      expect(jobs.map((j) => j.data)).toEqual([{ v: 1, count: DIRECT_MAX_TOKENS + 1, acceptedAt: expect.any(Number), sealed: '[encrypted]' }]);
      expect(res.text).not.toContain(ciphertext);
      await intake.resume();
      await eventually(() => tokens.every((t) => stack.gitlab.stateOf(t) === 'revoked'), 'revoked once the intake queue resumes');
    } finally {
      await intake.resume();
      await intake.close();
    }
  });

  it('is read-only: retries, removals and edits go through the audited API', async () => {
    for (const [method, path] of [
      ['put', `/admin/queues/api/queues/revocations/${fp}/retry`],
      ['put', '/admin/queues/api/queues/revocations/retry/failed'],
      ['put', `/admin/queues/api/queues/revocations/${fp}/clean`],
      ['put', '/admin/queues/api/queues/revocations/empty'],
      ['put', '/admin/queues/api/queues/revocations/pause'],
    ] as const) {
      const res = await keep(admin(method, path));
      expect({ path, status: res.status }).toEqual({ path, status: 405 });
    }
    expect(await failedReasonOf(stack.queue, token)).toMatch(/^http_400/);
    expect((await get('/admin/status')).body.paused).toBe(false);
  });
});

describe('no admin answer', () => {
  it('contains a submitted token, an admin or GitLab credential, or a ciphertext', () => {
    expect(answers.length).toBeGreaterThan(50);
    expect(sealed.length).toBeGreaterThan(3);
    const text = answers.map((a) => `${JSON.stringify(a.headers)}\n${a.text}`).join('\n');
    for (const secret of [...submitted, ...sealed, ONCALL, BARE, API_TOKEN, stack.gitlab.adminToken]) {
      expect({ secret: secret.slice(0, 10), found: text.includes(secret) }).toEqual({ secret: secret.slice(0, 10), found: false });
    }
    const logs = stack.service.logs.lines.join('\n');
    for (const secret of [...submitted, ...sealed, ONCALL, BARE]) expect(logs.includes(secret)).toBe(false);
  });
});

describe('without ADMIN_API_TOKENS', () => {
  it('answers 404 under /admin/ and says so once at start', async () => {
    const plain = await stack.startService({ ROLE: 'api' });
    try {
      for (const path of ['/admin/status', '/admin/queues', '/admin/failed']) {
        const res = await request(plain.url).get(path).set('Authorization', `Bearer ${ONCALL}`);
        expect(res.status).toBe(404);
        expect(res.body.error).toBe('not_found');
      }
      expect((await request(plain.url).post('/admin/replay').set('Authorization', API_TOKEN).send({ all: true })).status).toBe(404);
      expect(plain.logs.records().filter((r) => String(r['msg']).includes('ADMIN_API_TOKENS is unset'))).toHaveLength(1);
    } finally {
      await plain.stop();
    }
  });
});

describe('ADMIN_API_TOKENS', () => {
  const base = { GITLAB_URL: 'https://gitlab.example.com', REVOCATION_API_TOKENS: 'a-long-shared-secret-1', TOKEN_ENCRYPTION_KEY: Buffer.alloc(32, 7).toString('base64') };
  const problems = (value: string): string => {
    try {
      loadConfig({ ...base, ADMIN_API_TOKENS: value });
      return '';
    } catch (err) {
      if (err instanceof ConfigError) return err.problems.join('\n');
      throw err;
    }
  };

  it('reads name:token pairs and bare tokens (named admin); unset is empty', () => {
    expect(loadConfig(base).secrets.adminTokens).toEqual([]);
    expect(loadConfig({ ...base, ADMIN_API_TOKENS: 'oncall:0123456789abcdef01, fedcba9876543210xy ,ci.bot:has:colons-in-token' }).secrets.adminTokens).toEqual([
      { name: 'oncall', token: '0123456789abcdef01' },
      { name: 'admin', token: 'fedcba9876543210xy' },
      { name: 'ci.bot', token: 'has:colons-in-token' },
    ]);
  });

  it('refuses short, repeated or GitLab-shared tokens and bad names, without quoting a token', () => {
    expect(problems('oncall:short-token')).toMatch(/ADMIN_API_TOKENS: entry 1 \(oncall\): .*at least 16/);
    expect(problems('a-long-shared-secret-1')).toMatch(/REVOCATION_API_TOKENS/);
    expect(problems('x:0123456789abcdef01,y:0123456789abcdef01')).toMatch(/entry 2 .*twice/);
    expect(problems('bad name:0123456789abcdef01')).toMatch(/entry 1: the name/);
    for (const v of ['oncall:short-token', 'a-long-shared-secret-1', 'bad name:0123456789abcdef01']) {
      const text = problems(v);
      for (const secret of ['short-token', 'a-long-shared-secret-1', '0123456789abcdef01']) expect(text).not.toContain(secret);
    }
  });
});
