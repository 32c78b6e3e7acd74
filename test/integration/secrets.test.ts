import { randomBytes } from 'node:crypto';
import request from 'supertest';
import { loadConfig } from '../../src/config/index.js';
import { fingerprint } from '../../src/domain/fingerprint.js';
import { openOperations } from '../../src/operations.js';
import { failedReasonOf, inspectQueue } from '../support/queue.js';
import { dumpRedis } from '../support/redis-scan.js';
import { API_TOKEN, ENCRYPTION_KEY, eventually, item, type TestService } from '../support/service.js';
import { startStack, useStack } from '../support/stack.js';

// The tests start their services themselves (stopped by the stack in afterAll if still running); two of them on a
// stack of their own, borrowing the file's simulator.
const stack = useStack({ service: false });
const services: TestService[] = [];

describe('secrets of other vendors after a full run', () => {
  it('GitHub and Slack tokens and the GHES credential appear in no Redis key or value, log line, metric or admin answer', async () => {
    const githubToken = `ghes-admin-${randomBytes(16).toString('hex')}`;
    const admin = 'oncall:admin-secret-0123456789abcdef';
    const own = await startStack({
      gitlab: () => stack.gitlab,
      github: { mode: 'ghes', adminToken: githubToken },
      slack: true,
      env: {
        GITHUB_TOKEN: githubToken,
        GITHUB_BATCH_WAIT_MS: '100',
        GITHUB_CONFIRM_AFTER_SECONDS: '0.2',
        ADMIN_API_TOKENS: admin,
        REPORT_ONLY_TYPES: 'gitleaks_rule_id_aws',
      },
    });
    const { github, slack, client: ownClient, service: svc } = own;
    try {
      const gh = [github.createToken('ghp_'), github.createToken('github_pat_'), github.createToken('ghr_'), github.createToken('ghs_'), github.createToken('gho_')];
      const malformed = 'ghp_tooShortToBeARealToken';
      const sl = [slack.createToken('bot'), slack.createToken('user')];
      const aws = `AKIA${randomBytes(8).toString('hex').toUpperCase()}`;
      const items = [
        ...gh.map((t) => item(t, t.startsWith('github_pat_') ? 'gitleaks_rule_id_githubfinegrainedpersonalaccesstoken' : t.startsWith('ghr_') ? 'gitleaks_rule_id_github_refresh_token' : t.startsWith('gho_') ? 'gitleaks_rule_id_github_oauth_access_token' : t.startsWith('ghs_') ? 'gitleaks_rule_id_github_app_token' : 'gitleaks_rule_id_github_personal_access_token')),
        item(malformed, 'gitleaks_rule_id_github_personal_access_token'),
        ...sl.map((t) => item(t, 'gitleaks_rule_id_slack_token')),
        item(aws, 'gitleaks_rule_id_aws'),
      ];
      expect((await request(svc.url).post('/v1/revoke_tokens').set('Authorization', API_TOKEN).send(items)).status).toBe(204);
      const all = [...gh, malformed, ...sl, aws];
      await eventually(async () => (await Promise.all(all.map(async (t) => (await ownClient.exists(`trapi:outcome:${fingerprint(t)}`)) === 1 || (await ownClient.hget(`trapi:record:${fingerprint(t)}`, 'state')) !== 'attempted'))).every(Boolean), 'every token settled or failed', 20_000);
      await eventually(async () => (await ownClient.hget(`trapi:record:${fingerprint(gh[0] ?? '')}`, 'state')) === 'revoked', 'the classic PAT revoked and confirmed', 20_000);
      const bearer = `Bearer ${admin.split(':')[1] ?? ''}`;
      const answers = await Promise.all(
        ['/admin/status', '/admin/failed', ...all.map((t) => `/admin/tokens/${fingerprint(t)}`), '/metrics', '/v1/revocable_token_types'].map((path) => request(svc.url).get(path).set('Authorization', path.startsWith('/v1') ? API_TOKEN : bearer)),
      );
      const text = answers.map((a) => a.text).join('\n');
      const dump = await dumpRedis(ownClient);
      const logs = svc.logs.lines.join('\n');
      for (const [name, secret] of Object.entries({ ...Object.fromEntries(all.map((t, i) => [`token ${i}`, t])), githubToken })) {
        expect({ name, inRedis: dump.includes(Buffer.from(secret)), inLogs: logs.includes(secret), inAnswers: text.includes(secret) }).toEqual({ name, inRedis: false, inLogs: false, inAnswers: false });
      }
      // The GHES credential really was sent, and the malformed token never was.
      expect(github.revokeCalls().every((c) => c.authenticated)).toBe(true);
      expect(github.calls().filter((c) => c.bearer === malformed)).toEqual([]);
    } finally {
      await own.stop();
    }
  });
});

describe('secrets after a full run', () => {
  it('appear in no Redis key or value, no log line and no answer; revoked tokens leave no ciphertext', async () => {
    const api = await stack.startService({ ROLE: 'api' });
    services.push(api);
    const revoked = [stack.gitlab.createToken('personal_access_token'), stack.gitlab.createToken('runner_authentication_token'), stack.gitlab.createToken('personal_access_token')];
    const failing = stack.gitlab.createToken('personal_access_token');
    const unsupported = 'GR1348941SecretRegistrationTok';
    // GitLab sends the whole vulnerability record, which can quote the secret: only its id may be kept.
    const vulnerability = (id: number, token: string) => ({ vulnerability: { id, project_id: 3, description: `found ${token}`, raw_metadata: JSON.stringify({ raw_source_code_extract: token }) } });
    const answers = [
      await request(api.url).post('/v1/revoke_tokens').set('Authorization', API_TOKEN).send([item(revoked[0] ?? '', undefined, vulnerability(801, revoked[0] ?? '')), item(revoked[1] ?? '', 'gitleaks_rule_id_gitlab_runner_auth_token', vulnerability(802, revoked[1] ?? ''))]),
      await request(api.url).post('/v1/revoke_tokens').set('Authorization', `Bearer ${API_TOKEN}`).send([item(revoked[2] ?? ''), item(unsupported, 'gitleaks_rule_id_gitlab_runner_registration_token')]),
      await request(api.url).post('/v1/revoke_tokens').set('Authorization', 'wrong-secret-but-logged?').send([item(failing)]),
      await request(api.url).post('/v1/revoke_tokens').set('Authorization', API_TOKEN).set('Content-Type', 'application/json').send(`[{"type":"x","token":"${failing}"`),
    ];
    expect(answers.map((a) => a.status)).toEqual([204, 400, 401, 400]);

    // While queued, the jobs hold ciphertext only; remember it to prove it is gone once they are processed. Small
    // requests become one revocation job per token before the 204 (no worker runs yet); a large one, an intake job.
    const intake = inspectQueue(stack.redis.url, 'intake');
    const sealedBatches = [...(await intake.getWaiting()), ...(await stack.queue.getWaiting())].map((j) => String(j.data.sealed));
    await intake.close();
    expect(sealedBatches).toHaveLength(3);
    for (const s of sealedBatches) expect(s).toMatch(/^v1\./);

    // GraphQL down: the feedback jobs stay queued (retrying), so the dump below sees their data.
    const graphqlDown = stack.gitlab.faults.failUntilCleared(503, { path: '/api/graphql' });
    const worker = await stack.startService({ ROLE: 'worker' });
    services.push(worker);
    await eventually(() => revoked.every((t) => stack.gitlab.stateOf(t) !== 'active'), 'all revoked');
    const revokeFault = stack.gitlab.faults.failUntilCleared(400, { method: 'DELETE', body: { message: { error: 'Cannot revoke' } } });
    await request(api.url).post('/v1/revoke_tokens').set('Authorization', API_TOKEN).send([item(failing, undefined, vulnerability(803, failing))]).expect(204);
    await eventually(async () => (await failedReasonOf(stack.queue, failing)) !== undefined, 'failing token in the failed set');
    stack.gitlab.faults.remove(revokeFault);
    const feedback = inspectQueue(stack.redis.url, 'feedback');
    await eventually(async () => (await feedback.getJobs(['delayed', 'waiting', 'active'])).length === 3, 'three feedback jobs queued');
    const feedbackData = (await feedback.getJobs(['delayed', 'waiting', 'active'])).map((j) => j.data as Record<string, unknown>);
    await feedback.close();
    for (const d of feedbackData) expect(Object.keys(d).sort()).toEqual(['body', 'fp', 'resolvable', 'status', 'v', 'vulnerability']);
    expect(feedbackData.map((d) => d['vulnerability']).sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)))).toEqual([{ id: 801, projectId: 3 }, { id: 802, projectId: 3 }, { id: 803, projectId: 3 }]);
    const feedbackDump = await dumpRedis(stack.client);
    stack.gitlab.faults.remove(graphqlDown);
    await eventually(() => [801, 802, 803].every((id) => stack.gitlab.notesOf(id).length === 1), 'the notes once GraphQL is back', 20_000);
    const notes = [801, 802, 803].map((id) => stack.gitlab.notesOf(id)[0]?.body ?? '').join('\n');

    const dump = await dumpRedis(stack.client);
    const secrets = { ...Object.fromEntries([...revoked, failing, unsupported].map((t, i) => [`token ${i}`, t])), sharedSecret: API_TOKEN, adminToken: stack.gitlab.adminToken, encryptionKey: ENCRYPTION_KEY };
    const logs = [...api.logs.lines, ...worker.logs.lines].join('\n');
    const bodies = answers.map((a) => a.text).join('\n');
    for (const [name, secret] of Object.entries(secrets)) {
      expect({ name, inRedis: dump.includes(Buffer.from(secret)), inFeedbackJobs: feedbackDump.includes(Buffer.from(secret)) || JSON.stringify(feedbackData).includes(secret), inNotes: notes.includes(secret) }).toEqual({ name, inRedis: false, inFeedbackJobs: false, inNotes: false });
      expect({ name, inLogs: logs.includes(secret) }).toEqual({ name, inLogs: false });
      expect({ name, inAnswers: bodies.includes(secret) }).toEqual({ name, inAnswers: false });
    }
    for (const s of sealedBatches) expect(dump.includes(Buffer.from(s))).toBe(false);
    // Nothing of the vulnerability record but its ids: not its description, not its metadata.
    for (const d of [dump, feedbackDump]) expect(d.includes(Buffer.from('raw_source_code_extract')) || d.includes(Buffer.from('found '))).toBe(false);
    expect(notes).toContain(fingerprint(revoked[0] ?? '').slice(0, 12));
    // Only the failed job (kept for replay) may still hold a ciphertext: every revoked token's is gone.
    const ciphertexts = dump.toString('latin1').match(/v1\.[0-9a-f]{8}\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+/g) ?? [];
    expect(ciphertexts).toHaveLength(1);
    expect(String((await stack.queue.getJob(fingerprint(failing)))?.data.sealed)).toBe(ciphertexts[0]);
    expect(logs).toContain(fingerprint(revoked[0] ?? '').slice(0, 12)); // logs name tokens by fingerprint prefix
  });

  it('redacts a token or credential that reaches a log call by mistake', async () => {
    const { captureLogs } = await import('../support/logs.js');
    const logs = captureLogs();
    logs.logger.info({ token: 'glpat-LeakedByMistake000', headers: { authorization: 'secret-h' }, job: { sealed: 'v1.abc', token: 'glpat-Nested00000000000' } }, 'oops');
    const line = logs.lines.join('\n');
    for (const s of ['glpat-LeakedByMistake000', 'secret-h', 'v1.abc', 'glpat-Nested00000000000']) expect(line).not.toContain(s);
    expect(line).toContain('[redacted]');
  });
});

describe('secret hygiene over a full operating scenario', () => {
  it('no token, shared secret, admin credential (old or rotated) or key appears in Redis, logs, /metrics, /admin or Bull Board after accept, revoke, fail, replay, key rotation and credential rotation', async () => {
    const own = await startStack({ gitlab: () => stack.gitlab, service: false });
    const ownClient = own.client;
    const oldKey = randomBytes(32).toString('base64');
    const newKey = randomBytes(32).toString('base64');
    const admin = `oncall-admin-secret-${randomBytes(8).toString('hex')}`;
    const env = { STRATEGY_ORDER: 'admin', ADMIN_API_TOKENS: `oncall:${admin}` };
    const bodies: string[] = [];
    const keep = (res: { text: string; headers: Record<string, unknown> }) => bodies.push(res.text ?? '', JSON.stringify(res.headers));
    const logs: string[] = [];
    const tokens = [stack.gitlab.createToken('personal_access_token'), stack.gitlab.createToken('runner_authentication_token')];
    const failing = stack.gitlab.createToken('deploy_token');
    // The GitLab admin credential expires in 3 days: the second service rotates it mid-scenario.
    const gitlabAdminOld = stack.gitlab.adminToken;
    stack.gitlab.seed({ token: gitlabAdminOld, kind: 'personal_access_token', admin: true, userId: 1, scopes: ['api'], expiresAt: new Date(Date.now() + 3 * 86_400_000).toISOString().slice(0, 10) });
    try {
      const first = await own.startService({ ...env, GITLAB_ADMIN_TOKEN: gitlabAdminOld, TOKEN_ENCRYPTION_KEY: oldKey });
      services.push(first);
      stack.gitlab.faults.failUntilCleared(400, { method: 'DELETE', path: '/api/v4/admin/token' });
      keep(await request(first.url).post('/v1/revoke_tokens').set('Authorization', API_TOKEN).send([item(failing, 'gitleaks_rule_id_gitlab_deploy_token')]));
      await eventually(async () => (await ownClient.zcard('trapi:revocations:failed')) > 0, 'failed');
      await first.stop();
      services.splice(services.indexOf(first), 1);
      logs.push(...first.logs.lines);
      stack.gitlab.faults.clear();

      // Rotate the key (new first), re-seal, replay through the admin API, revoke the rest.
      const second = await own.startService({ ...env, GITLAB_ADMIN_TOKEN: gitlabAdminOld, TOKEN_ENCRYPTION_KEY: `${newKey},${oldKey}`, GITLAB_ADMIN_TOKEN_ROTATION: 'personal', CREDENTIAL_CHECK_SECONDS: '0.2' });
      services.push(second);
      await eventually(() => stack.gitlab.stateOf(gitlabAdminOld) === 'revoked' && stack.gitlab.stateOf(stack.gitlab.adminToken) === 'active', 'the GitLab admin credential rotated');
      const gitlabAdminNew = stack.gitlab.adminToken;
      const rotated = loadConfig(own.env({ TOKEN_ENCRYPTION_KEY: `${newKey},${oldKey}` }));
      const ops = openOperations(ownClient, rotated, { types: () => [], supports: () => false }, second.logs.logger);
      expect((await ops.operations.rekey('test')).stillUsed).toEqual([]);
      await ops.close();
      const auth = `Bearer ${admin}`;
      keep(await request(second.url).post('/admin/replay').set('Authorization', auth).send({ all: true }));
      keep(await request(second.url).post('/v1/revoke_tokens').set('Authorization', API_TOKEN).send(tokens.map((t, i) => item(t, i === 0 ? undefined : 'gitleaks_rule_id_gitlab_runner_auth_token', { vulnerability: { id: 900 + i } }))));
      await eventually(() => [...tokens, failing].every((t) => stack.gitlab.stateOf(t) !== 'active'), 'everything revoked');
      // The notes are written with the live credential: the rotated-away one is refused by now.
      await eventually(() => stack.gitlab.notesOf(900).length === 1 && stack.gitlab.notesOf(901).length === 1, 'notes written with the rotated admin credential');
      expect(stack.gitlab.calls({ path: '/api/graphql' }).filter((c) => c.status === 401)).toEqual([]);
      for (const path of ['/admin/status', '/-/readiness', '/admin/failed', '/admin/audit', `/admin/tokens/${fingerprint(failing)}`, '/admin/queues', '/admin/queues/api/queues?activeQueue=revocations&status=completed&page=1', '/metrics']) {
        keep(await request(second.url).get(path).set('Authorization', auth));
      }
      await second.stop();
      services.splice(services.indexOf(second), 1);
      logs.push(...second.logs.lines);

      const dump = await dumpRedis(ownClient);
      const secrets = { pat: tokens[0], runner: tokens[1], deploy: failing, shared: API_TOKEN, gitlabAdminOld, gitlabAdminNew, adminApi: admin, oldKey, newKey };
      expect(gitlabAdminNew).not.toBe(gitlabAdminOld);
      expect(bodies.join('\n')).toContain('"generation":2'); // /admin/status reports the rotation
      for (const [name, secret] of Object.entries(secrets)) {
        const s = String(secret);
        expect({ name, redis: dump.includes(Buffer.from(s)), logs: logs.some((l) => l.includes(s)), answers: bodies.some((b) => b.includes(s)) }).toEqual({ name, redis: false, logs: false, answers: false });
      }
      // Every token revoked: the only ciphertext left is the stored admin credential, sealed under the new key.
      const ciphertexts = dump.toString('latin1').match(/v1\.[0-9a-f]{8}\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+/g) ?? [];
      const stored = (await ownClient.keys('trapi:credential:*')).filter((k) => !/:(lock|fences|configured)$/.test(k));
      expect(stored).toHaveLength(1);
      expect(ciphertexts).toEqual([await ownClient.hget(stored[0] ?? '', 'current')]);
    } finally {
      stack.gitlab.faults.clear();
      for (const svc of services.splice(0)) await svc.stop();
      await own.stop();
    }
  });
});
