import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import request from 'supertest';
import { keyFromBase64 } from '../../src/domain/crypto.js';
import { failedReasonOf } from '../support/queue.js';
import { dumpRedis } from '../support/redis-scan.js';
import { API_TOKEN, eventually, item } from '../support/service.js';
import { useStack } from '../support/stack.js';

const CLI = fileURLToPath(new URL('../../dist/src/cli.js', import.meta.url));
const OLD = randomBytes(32).toString('base64');
const NEW = randomBytes(32).toString('base64');

// The tests start their services one after the other, each under the key of its moment.
const stack = useStack({ service: false });

const keyIds = async (): Promise<string[]> => [...new Set((await dumpRedis(stack.client)).toString('latin1').match(/v1\.([0-9a-f]{8})\./g) ?? [])].map((m) => m.slice(3, 11)).sort();
const trapi = (args: string[], key: string) =>
  spawnSync(process.execPath, [CLI, ...args], { env: { PATH: process.env['PATH'], ...stack.env({ TOKEN_ENCRYPTION_KEY: key }) }, encoding: 'utf8' });

describe('encryption key rotation', () => {
  it('re-seals queued and failed tokens and the stored admin credential under the new key, after which the old key can be removed', async () => {
    // Under the old key: one token in the failed set, two accepted while no worker runs, and a self-rotated admin credential.
    const configuredAdmin = stack.gitlab.adminToken;
    stack.gitlab.seed({ token: configuredAdmin, kind: 'personal_access_token', admin: true, userId: 1, scopes: ['api'], expiresAt: new Date(Date.now() + 3 * 86_400_000).toISOString().slice(0, 10) });
    const failing = stack.gitlab.createToken('deploy_token');
    stack.gitlab.faults.failUntilCleared(400, { method: 'DELETE' });
    const rotation = { GITLAB_ADMIN_TOKEN_ROTATION: 'personal', CREDENTIAL_CHECK_SECONDS: '0.2' };
    const first = await stack.startService({ GITLAB_ADMIN_TOKEN: configuredAdmin, TOKEN_ENCRYPTION_KEY: OLD, STRATEGY_ORDER: 'admin', ...rotation });
    await request(first.url).post('/v1/revoke_tokens').set('Authorization', API_TOKEN).send([item(failing, 'gitleaks_rule_id_gitlab_deploy_token')]).expect(204);
    await eventually(async () => (await failedReasonOf(stack.queue, failing)) !== undefined, 'token failed');
    await eventually(() => stack.gitlab.stateOf(configuredAdmin) === 'revoked', 'the admin credential rotated');
    await first.stop();
    const queued = [stack.gitlab.createToken('personal_access_token'), stack.gitlab.createToken('personal_access_token')];
    const api = await stack.startService({ TOKEN_ENCRYPTION_KEY: OLD, ROLE: 'api' });
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
    stack.gitlab.faults.clear();
    const afterStart = Date.now();
    const after = await stack.startService({ GITLAB_ADMIN_TOKEN: configuredAdmin, TOKEN_ENCRYPTION_KEY: NEW, STRATEGY_ORDER: 'admin', ...rotation });
    try {
      await eventually(() => queued.every((t) => stack.gitlab.stateOf(t) === 'revoked'), 'queued tokens revoked under the new key');
      expect(trapi(['replay', '--all', '--json'], NEW).status).toBe(0);
      await eventually(() => stack.gitlab.stateOf(failing) === 'revoked', 'the failed token revoked after replay');
      expect(after.logs.records().some((r) => r['reason'] === 'decryption_failed')).toBe(false);
      expect(stack.gitlab.calls({ route: '/api/v4/admin/token', status: 401 }).filter((c) => c.at >= afterStart)).toEqual([]);
    } finally {
      await after.stop();
    }
    const audit = (await stack.client.xrange('trapi:audit', '-', '+')).map(([, f]) => f);
    expect(audit.some((f) => f.includes('rekey') && f.includes('cli:kim'))).toBe(true);
  });

  it('names the key a job needs when it is no longer configured, and keeps the job', async () => {
    const api = await stack.startService({ TOKEN_ENCRYPTION_KEY: OLD, ROLE: 'api' });
    await request(api.url).post('/v1/revoke_tokens').set('Authorization', API_TOKEN).send([item(stack.gitlab.createToken('personal_access_token'))]).expect(204);
    await api.stop();
    const run = trapi(['rekey', '--json'], NEW);
    expect(run.status).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ rekeyed: 0, stillUsed: [keyFromBase64(OLD).id] });
  });
});
