import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import request from 'supertest';
import { makeToken } from '../../simulator/index.js';
import { API_TOKEN, eventually, item } from '../support/service.js';
import { useStack } from '../support/stack.js';

const CLI = fileURLToPath(new URL('../../dist/src/cli.js', import.meta.url));
// The service runs as a child process (SIGHUP is a signal to a process); the stack kills it in afterAll if a test failed.
const stack = useStack({ service: false });

describe('rotating the pre-shared tokens GitLab presents', () => {
  it('takes a new REVOCATION_API_TOKENS_FILE on SIGHUP without a restart, and keeps the old secrets if the new file is invalid', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'trapi-reload-')), 'tokens');
    const [a, b] = ['old-shared-secret-aaaaaaaa', 'new-shared-secret-bbbbbbbb'];
    writeFileSync(file, a);
    const env = { REVOCATION_API_TOKENS: '', REVOCATION_API_TOKENS_FILE: file };
    const proc = stack.spawn(env);
    const url = await proc.started();
    const status = async (token: string) => (await request(url).post('/v1/revoke_tokens').set('Authorization', token).send([])).status;
    const reloads = () => proc.logs().filter((r) => String(r['msg']).startsWith('secrets reloaded')).length;
    const hup = async (expected: number) => {
      proc.child.kill('SIGHUP');
      await eventually(() => reloads() === expected || proc.logs().some((r) => String(r['msg']).startsWith('SIGHUP: the new configuration is invalid')), 'SIGHUP handled');
    };

    expect([await status(a), await status(b)]).toEqual([204, 401]);
    writeFileSync(file, `${a},${b}`);
    await hup(1);
    expect([await status(a), await status(b)]).toEqual([204, 204]); // both during the switch-over
    writeFileSync(file, b);
    await hup(2);
    expect([await status(a), await status(b)]).toEqual([401, 204]);

    writeFileSync(file, 'short');
    await hup(3);
    expect(reloads()).toBe(2);
    expect([await status(a), await status(b)]).toEqual([401, 204]);
    expect(proc.stdout.join('\n')).not.toMatch(/old-shared-secret|new-shared-secret/);
    proc.child.kill('SIGTERM');
    expect(await proc.exited()).toBe(0);
  });

  it('takes a new GITLAB_ADMIN_TOKEN_FILE on SIGHUP: tokens held behind the refused credential are revoked with the new one', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'trapi-reload-')), 'admin-token');
    writeFileSync(file, stack.gitlab.adminToken);
    const env = { GITLAB_ADMIN_TOKEN: '', GITLAB_ADMIN_TOKEN_FILE: file, STRATEGY_ORDER: 'admin' };
    const proc = stack.spawn(env);
    const url = await proc.started();
    // GitLab stops accepting our admin credential: a leaked token is held, not failed.
    stack.gitlab.setAdminTokenState('revoked');
    const leaked = stack.gitlab.createToken('personal_access_token');
    await request(url).post('/v1/revoke_tokens').set('Authorization', API_TOKEN).send([item(leaked)]).expect(204);
    await eventually(() => proc.logs().some((r) => String(r['msg']).includes('breaker OPEN')), 'the admin breaker to open');
    // The operator creates a new admin token, puts it in the file and sends SIGHUP: no restart.
    const replacement = makeToken('personal_access_token');
    stack.gitlab.seed({ token: replacement, kind: 'personal_access_token', admin: true, userId: 1, scopes: ['api'] });
    writeFileSync(file, replacement);
    proc.child.kill('SIGHUP');
    await eventually(() => proc.logs().some((r) => String(r['msg']).startsWith('secrets reloaded') && String(r['gitlabCredentialsChanged']).endsWith(':admin')), 'the new admin credential to be taken');
    await eventually(() => stack.gitlab.stateOf(leaked) === 'revoked', 'the held token to be revoked with the new credential');
    expect(stack.gitlab.calls({ route: '/api/v4/admin/token', method: 'DELETE' }).filter((c) => c.token === leaked).map((c) => c.status)).toEqual([204]);
    expect(proc.stdout.join('\n')).not.toContain(replacement);
    proc.child.kill('SIGTERM');
    expect(await proc.exited()).toBe(0);
  });

  it('after a lost rotation answer, a new self-rotated admin token given by SIGHUP is adopted and held tokens are revoked', async () => {
    const inDays = (d: number) => new Date(Date.now() + d * 86_400_000).toISOString().slice(0, 10);
    const first = makeToken('personal_access_token');
    stack.gitlab.seed({ token: first, kind: 'personal_access_token', admin: true, userId: 1, scopes: ['api'], expiresAt: inDays(3) });
    stack.gitlab.faults.dropAfterNext(1, { method: 'POST', path: '/api/v4/personal_access_tokens/self/rotate' });
    const file = join(mkdtempSync(join(tmpdir(), 'trapi-reload-')), 'admin-token');
    writeFileSync(file, first);
    const env = { GITLAB_ADMIN_TOKEN: '', GITLAB_ADMIN_TOKEN_FILE: file, GITLAB_ADMIN_TOKEN_ROTATION: 'personal', CREDENTIAL_CHECK_SECONDS: '0.2', STRATEGY_ORDER: 'admin' };
    const proc = stack.spawn(env);
    const url = await proc.started();
    await eventually(() => proc.logs().some((r) => r['alert'] === true && r['reason'] === 'rotation_answer_lost'), 'the lost rotation to be detected');
    const leaked = stack.gitlab.createToken('personal_access_token');
    await request(url).post('/v1/revoke_tokens').set('Authorization', API_TOKEN).send([item(leaked)]).expect(204);
    const replacement = makeToken('personal_access_token');
    stack.gitlab.seed({ token: replacement, kind: 'personal_access_token', admin: true, userId: 1, scopes: ['api'], expiresAt: inDays(60) });
    writeFileSync(file, replacement);
    proc.child.kill('SIGHUP');
    await eventually(() => stack.gitlab.stateOf(leaked) === 'revoked', 'the held token to be revoked with the adopted credential');
    expect(proc.logs().some((r) => String(r['msg']).startsWith('configured credential adopted'))).toBe(true);
    expect(stack.gitlab.calls({ route: '/api/v4/personal_access_tokens/self/rotate', method: 'POST' })).toHaveLength(1); // never rotated again
    proc.child.kill('SIGTERM');
    expect(await proc.exited()).toBe(0);
  });

  it('generates a strong new token and prints the exact GitLab API call that installs it', () => {
    const run = spawnSync(process.execPath, [CLI, 'new-token', '--json'], { env: { PATH: process.env['PATH'], GITLAB_URL: 'https://gitlab.example.com', REVOCATION_API_TOKENS: 'x'.repeat(20), TOKEN_ENCRYPTION_KEY: Buffer.alloc(32, 1).toString('base64') }, encoding: 'utf8' });
    expect(run.status).toBe(0);
    const { token, gitlabApiCall } = JSON.parse(run.stdout) as { token: string; gitlabApiCall: string };
    expect(token).toMatch(/^trapi_[A-Za-z0-9_-]{43}$/);
    expect(gitlabApiCall).toBe(
      `curl --request PUT "https://gitlab.example.com/api/v4/application/settings" --header "PRIVATE-TOKEN: <an administrator's token>" --data-urlencode "secret_detection_token_revocation_token=${token}"`,
    );
    const again = spawnSync(process.execPath, [CLI, 'new-token', '--json'], { env: { PATH: process.env['PATH'], GITLAB_URL: 'https://gitlab.example.com', REVOCATION_API_TOKENS: 'x'.repeat(20), TOKEN_ENCRYPTION_KEY: Buffer.alloc(32, 1).toString('base64') }, encoding: 'utf8' });
    expect((JSON.parse(again.stdout) as { token: string }).token).not.toBe(token);
  });
});
