import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { killAll, spawnService } from '../support/process.js';
import { eventually } from '../support/service.js';

const dataDir = mkdtempSync(join(tmpdir(), 'trapi-sandbox-'));
afterAll(async () => {
  await killAll();
  // A service killed by a failed test leaves its detached embedded redis-server behind: stop that too.
  try {
    process.kill((JSON.parse(readFileSync(join(dataDir, 'redis', 'redis.json'), 'utf8')) as { pid: number }).pid, 'SIGTERM');
  } catch {
    // not running
  }
  rmSync(dataDir, { recursive: true, force: true });
});

/** What a newcomer has: no configuration at all, except a free port so tests can run side by side. */
const bareEnv = (extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv => ({ PATH: process.env['PATH'], HOME: process.env['HOME'], DATA_DIR: dataDir, PORT: '0', HOST: '127.0.0.1', ...extra });

const pidAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('when started with no configuration (sandbox mode, embedded Redis)', () => {
  it('starts its own Redis and the GitLab simulator, prints a credential once, and revokes a curl-submitted token', async () => {
    const proc = spawnService(bareEnv());
    const url = await proc.started();
    const out = proc.stdout.join('\n');
    expect(out).toMatch(/SANDBOX MODE/);
    const credential = /Authorization: ([^']+)'/.exec(out)?.[1];
    expect(credential).toBeDefined();
    expect(proc.logs().some((r) => JSON.stringify(r).includes(credential ?? '?'))).toBe(false); // printed, never logged

    const token = 'glpat-SandboxCurlToken0001';
    // GitHub and Slack tokens are revoked against their built-in simulators too: nothing reaches the internet.
    const ghp = `ghp_${'Sandbox0'.repeat(4)}abcd`;
    const xoxb = 'xoxb-1234567890-sandbox-token';
    const res = await request(url)
      .post('/v1/revoke_tokens')
      .set('Authorization', credential ?? '')
      .send([
        { type: 'gitleaks_rule_id_gitlab_personal_access_token', token, location: 'https://example.com/x' },
        { type: 'gitleaks_rule_id_github_personal_access_token', token: ghp, location: 'https://example.com/y' },
        { type: 'gitleaks_rule_id_slack_token', token: xoxb, location: 'https://example.com/z' },
      ]);
    expect(res.status).toBe(204);
    await eventually(() => ['gitlab', 'github', 'slack'].every((p) => proc.logs().some((r) => r['msg'] === 'token revoked' && r['provider'] === p)), 'a revocation logged by each provider', 20_000);
    expect(proc.logs().find((r) => r['msg'] === 'token revoked' && r['provider'] === 'github')).toMatchObject({ confirmed: true });

    const handle = JSON.parse(readFileSync(join(dataDir, 'redis', 'redis.json'), 'utf8')) as { pid: number };
    expect(pidAlive(handle.pid)).toBe(true);
    proc.child.kill('SIGTERM');
    expect(await proc.exited()).toBe(0);
    await eventually(() => !pidAlive(handle.pid), 'embedded redis-server stopped on exit', 5000);
    expect(existsSync(join(dataDir, 'redis', 'appendonlydir'))).toBe(true);

    const again = spawnService(bareEnv());
    await again.started();
    expect(again.stdout.join('\n')).toMatch(/SANDBOX MODE/);
    expect(again.stdout.join('\n')).not.toContain(credential ?? '?');
    again.child.kill('SIGTERM');
    expect(await again.exited()).toBe(0);
  });

  it('when sent SIGHUP, then it reloads without rewriting the sandbox secrets file, and the stored credential still works', async () => {
    const file = join(dataDir, 'sandbox-secrets.json');
    const proc = spawnService(bareEnv());
    const url = await proc.started();
    const before = { text: readFileSync(file, 'utf8'), mtimeMs: statSync(file).mtimeMs };
    const { apiToken } = JSON.parse(before.text) as { apiToken: string };
    proc.child.kill('SIGHUP');
    await eventually(() => proc.logs().some((r) => String(r['msg']).startsWith('secrets reloaded (SIGHUP)')), 'SIGHUP handled');
    expect(proc.logs().find((r) => String(r['msg']).startsWith('secrets reloaded (SIGHUP)'))).toMatchObject({ apiTokenCount: '1 -> 1' });
    expect({ text: readFileSync(file, 'utf8'), mtimeMs: statSync(file).mtimeMs }).toEqual(before);
    // Even with the file gone, a reload generates nothing: the running credential and key stay.
    rmSync(file);
    proc.child.kill('SIGHUP');
    await eventually(() => proc.logs().filter((r) => String(r['msg']).startsWith('secrets reloaded (SIGHUP)')).length === 2, 'second SIGHUP handled');
    expect(existsSync(file)).toBe(false);
    const res = await request(url).post('/v1/revoke_tokens').set('Authorization', apiToken).send([{ type: 'gitleaks_rule_id_gitlab_personal_access_token', token: 'glpat-SandboxReloadToken01', location: 'https://example.com/x' }]);
    expect(res.status).toBe(204);
    proc.child.kill('SIGTERM');
    expect(await proc.exited()).toBe(0);
    writeFileSync(file, before.text, { mode: 0o600 });
  });

  it('exits with a message naming REDIS_URL and how to install Redis when redis-server is missing', async () => {
    // A PATH with node on it and nothing else (node's own folder may well hold redis-server too).
    const bin = mkdtempSync(join(tmpdir(), 'trapi-bin-'));
    symlinkSync(process.execPath, join(bin, 'node'));
    const proc = spawnService(bareEnv({ PATH: bin, DATA_DIR: mkdtempSync(join(tmpdir(), 'trapi-noredis-')) }));
    expect(await proc.exited()).toBe(1);
    const out = proc.stdout.join('\n');
    expect(out).toMatch(/redis-server was not found/);
    expect(out).toMatch(/REDIS_URL/);
    expect(out).toMatch(/apt-get install -y redis-server/);
  });

  it('refuses to start outside sandbox mode without the required secrets, naming each', async () => {
    const proc = spawnService(bareEnv({ GITLAB_URL: 'https://gitlab.example.com' }));
    expect(await proc.exited()).toBe(2);
    const out = proc.stdout.join('\n');
    for (const name of ['REVOCATION_API_TOKENS', 'TOKEN_ENCRYPTION_KEY']) expect(out).toContain(name);
  });
});
