import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import request from 'supertest';
import { keyFromBase64 } from '../../src/domain/crypto.js';
import { startGitLabSimulator, type GitLabSimulator } from '../../simulator/index.js';
import { failedReasonOf, inspectQueue } from '../support/queue.js';
import { dumpRedis } from '../support/redis-scan.js';
import { startTestRedis, type TestRedis } from '../support/redis.js';
import { API_TOKEN, eventually, item, startTestService, testEnv } from '../support/service.js';

const CLI = fileURLToPath(new URL('../../dist/src/cli.js', import.meta.url));
const OLD = randomBytes(32).toString('base64');
const NEW = randomBytes(32).toString('base64');

let redis: TestRedis;
let client: Redis;
let revocations: Queue;
let sim: GitLabSimulator;

beforeAll(async () => {
  redis = await startTestRedis();
  client = redis.client();
  revocations = inspectQueue(redis.url);
  sim = await startGitLabSimulator();
});
afterAll(async () => {
  await revocations?.close();
  await sim?.stop();
  await redis?.stop();
});

const keyIds = async (): Promise<string[]> => [...new Set((await dumpRedis(client)).toString('latin1').match(/v1\.([0-9a-f]{8})\./g) ?? [])].map((m) => m.slice(3, 11)).sort();
const trapi = (args: string[], key: string) =>
  spawnSync(process.execPath, [CLI, ...args], { env: { PATH: process.env['PATH'], ...testEnv(redis.url, sim.url, sim.adminToken, { TOKEN_ENCRYPTION_KEY: key }) }, encoding: 'utf8' });

describe('encryption key rotation', () => {
  it('re-seals queued and failed tokens and the stored admin credential under the new key, after which the old key can be removed', async () => {
    // Under the old key: one token in the failed set, two accepted while no worker runs, and a self-rotated admin credential.
    const configuredAdmin = sim.adminToken;
    sim.seed({ token: configuredAdmin, kind: 'personal_access_token', admin: true, userId: 1, scopes: ['api'], expiresAt: new Date(Date.now() + 3 * 86_400_000).toISOString().slice(0, 10) });
    const failing = sim.createToken('deploy_token');
    sim.faults.failUntilCleared(400, { method: 'DELETE' });
    const rotation = { GITLAB_ADMIN_TOKEN_ROTATION: 'personal', CREDENTIAL_CHECK_SECONDS: '0.2' };
    const first = await startTestService(redis.url, sim.url, configuredAdmin, { TOKEN_ENCRYPTION_KEY: OLD, STRATEGY_ORDER: 'admin', ...rotation });
    await request(first.url).post('/v1/revoke_tokens').set('Authorization', API_TOKEN).send([item(failing, 'gitleaks_rule_id_gitlab_deploy_token')]).expect(204);
    await eventually(async () => (await failedReasonOf(revocations, failing)) !== undefined, 'token failed');
    await eventually(() => sim.stateOf(configuredAdmin) === 'revoked', 'the admin credential rotated');
    await first.stop();
    const queued = [sim.createToken('personal_access_token'), sim.createToken('personal_access_token')];
    const api = await startTestService(redis.url, sim.url, sim.adminToken, { TOKEN_ENCRYPTION_KEY: OLD, ROLE: 'api' });
    for (const t of queued) await request(api.url).post('/v1/revoke_tokens').set('Authorization', API_TOKEN).send([item(t)]).expect(204);
    await api.stop();
    expect(await keyIds()).toEqual([keyFromBase64(OLD).id]);

    // The new key first, the old one still listed: rekey.
    const run = trapi(['rekey', '--json', '--actor', 'kim'], `${NEW},${OLD}`);
    expect(run.status).toBe(0);
    expect(JSON.parse(run.stdout)).toEqual({ rekeyed: 3, credentials: 1, current: 0, skippedActive: 0, stillUsed: [] });
    expect(await keyIds()).toEqual([keyFromBase64(NEW).id]);
    expect(run.stdout + run.stderr).not.toContain(NEW);

    // The old key removed: everything left still decrypts and is revoked (the failed one after a replay), with the
    // stored successor of the admin credential: the configured one is revoked, and only `admin` may revoke.
    sim.faults.clear();
    const afterStart = Date.now();
    const after = await startTestService(redis.url, sim.url, configuredAdmin, { TOKEN_ENCRYPTION_KEY: NEW, STRATEGY_ORDER: 'admin', ...rotation });
    try {
      await eventually(() => queued.every((t) => sim.stateOf(t) === 'revoked'), 'queued tokens revoked under the new key');
      expect(trapi(['replay', '--all', '--json'], NEW).status).toBe(0);
      await eventually(() => sim.stateOf(failing) === 'revoked', 'the failed token revoked after replay');
      expect(after.logs.records().some((r) => r['reason'] === 'decryption_failed')).toBe(false);
      expect(sim.calls({ route: '/api/v4/admin/token', status: 401 }).filter((c) => c.at >= afterStart)).toEqual([]);
    } finally {
      await after.stop();
    }
    const audit = (await client.xrange('trapi:audit', '-', '+')).map(([, f]) => f);
    expect(audit.some((f) => f.includes('rekey') && f.includes('cli:kim'))).toBe(true);
  });

  it('names the key a job needs when it is no longer configured, and keeps the job', async () => {
    const api = await startTestService(redis.url, sim.url, sim.adminToken, { TOKEN_ENCRYPTION_KEY: OLD, ROLE: 'api' });
    await request(api.url).post('/v1/revoke_tokens').set('Authorization', API_TOKEN).send([item(sim.createToken('personal_access_token'))]).expect(204);
    await api.stop();
    const run = trapi(['rekey', '--json'], NEW);
    expect(run.status).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ rekeyed: 0, stillUsed: [keyFromBase64(OLD).id] });
  });
});
