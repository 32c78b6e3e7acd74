// The operator CLI, built (dist/src/cli.js) and run as a real child process against a real service, Redis and simulator.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { hostname, tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import request from 'supertest';
import { loadConfig } from '../../src/config/index.js';
import { startService, type Service } from '../../src/service.js';
import { captureLogs } from '../support/logs.js';
import { fingerprint } from '../../src/domain/fingerprint.js';
import { KEY_PREFIX } from '../../src/queue/jobs.js';
import { freePort } from '../../src/runtime/free-port.js';
import { failedReasonOf } from '../support/queue.js';
import { API_TOKEN, eventually, item } from '../support/service.js';
import { useStack } from '../support/stack.js';

const CLI = fileURLToPath(new URL('../../dist/src/cli.js', import.meta.url));
const DEPLOY = 'gitleaks_rule_id_gitlab_deploy_token';

interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

let env: NodeJS.ProcessEnv;
/** Every token given to the service, and every CLI output: no output may contain a token. */
const tokens: string[] = [];
const outputs: Run[] = [];

const stack = useStack();
beforeAll(() => {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run \`npm run build\` first (npm test does)`);
  env = { PATH: process.env['PATH'] ?? '', ...stack.env() };
});

/** Runs `node dist/src/cli.js ...args`; `input` is piped to its standard input (closed at once otherwise). */
function cli(args: readonly string[], opts: { input?: string; env?: NodeJS.ProcessEnv } = {}): Promise<Run> {
  const child = spawn(process.execPath, [CLI, ...args], { env: opts.env ?? env, stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString('utf8')));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
  child.stdin.end(opts.input ?? '');
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => {
      const run = { code, stdout, stderr };
      outputs.push(run);
      resolve(run);
    });
  });
}

/** `--json` output of a command that must succeed. */
async function json<T = any>(args: readonly string[], opts: { input?: string } = {}): Promise<T> {
  const run = await cli([...args, '--json'], opts);
  expect({ args, code: run.code, stderr: run.stderr }).toEqual({ args, code: 0, stderr: '' });
  return JSON.parse(run.stdout) as T;
}

const submit = async (...items: object[]) => {
  await request(stack.service.url).post('/v1/revoke_tokens').set('Authorization', API_TOKEN).send(items).expect(204);
};
const token = (kind: 'personal_access_token' | 'deploy_token'): string => {
  const t = stack.gitlab.createToken(kind);
  tokens.push(t);
  return t;
};
const short = (fp: string) => fp.slice(0, 12);
const failedFps = async (...args: string[]) => ((await json(['failed', 'list', ...args])).failed as Array<{ fingerprint: string }>).map((t) => t.fingerprint).sort();
/** A field of a token's record, read straight from Redis: cheaper to poll than a CLI process. */
const recordField = (t: string, field: string) => stack.client.hget(`${KEY_PREFIX}:record:${fingerprint(t)}`, field);
const defaultActor = `cli:${userInfo().username}@${hostname()}`;

describe('trapi status and types', () => {
  it('status --json: job counts per queue, no open breaker, at least one worker, not paused', async () => {
    const s = await json(['status']);
    expect(s.jobs.revocations).toEqual(expect.objectContaining({ waiting: expect.any(Number), active: expect.any(Number), failed: 0, completed: expect.any(Number) }));
    expect(s.jobs.intake).toEqual(expect.objectContaining({ waiting: expect.any(Number) }));
    expect(s.oldestWaitingSeconds).toEqual({ revocations: null, intake: null });
    expect(s.breakers).toEqual({});
    expect(s.workers).toBeGreaterThanOrEqual(1);
    expect(s.paused).toBe(false);
    const human = await cli(['status']);
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(/^processing\s+running$/m);
    expect(human.stdout).toMatch(/^workers\s+[1-9]/m);
    expect(human.stdout).toMatch(/^breakers\s+all closed$/m);
    expect(human.stdout).toMatch(/^revocations\s+\d+/m);
  });

  it('types: what GET /v1/revocable_token_types answers', async () => {
    const served = (await request(stack.service.url).get('/v1/revocable_token_types').set('Authorization', API_TOKEN)).body.types as string[];
    expect((await json(['types'])).types).toEqual(served);
    const human = await cli(['types']);
    expect(human.stdout.trim().split('\n')).toEqual(served);
  });
});

describe('trapi on failed tokens', () => {
  let patA: string;
  let patB: string;
  let deploy: string;
  const fp = (t: string) => fingerprint(t);

  it('failed list shows tokens that failed permanently, with their reasons, and filters them', async () => {
    stack.gitlab.faults.failUntilCleared(400, { method: 'DELETE' }); // every revocation is refused: no strategy can act
    [patA, patB, deploy] = [token('personal_access_token'), token('personal_access_token'), token('deploy_token')];
    await submit(item(patA), item(patB), item(deploy, DEPLOY));
    await eventually(async () => (await Promise.all([patA, patB, deploy].map((t) => failedReasonOf(stack.queue, t)))).every((r) => r !== undefined), 'three tokens in the failed set');

    const listed = await json(['failed', 'list']);
    expect(listed.count).toBe(3);
    for (const t of [patA, patB, deploy]) {
      expect(listed.failed).toContainEqual(expect.objectContaining({ fingerprint: fp(t), reason: await failedReasonOf(stack.queue, t), attempts: expect.any(Number), failedAt: expect.any(String) }));
    }
    expect(listed.failed.find((f: { fingerprint: string }) => f.fingerprint === fp(deploy)).type).toBe(DEPLOY);

    const human = await cli(['failed', 'list']);
    expect(human.code).toBe(0);
    for (const t of [patA, patB, deploy]) {
      const line = human.stdout.split('\n').find((l) => l.startsWith(short(fp(t))));
      expect(line).toContain(String(await failedReasonOf(stack.queue, t)).split(':')[0]);
    }
    expect(human.stdout).toContain('3 failed token(s)');
    expect(human.stdout).not.toContain('undefined');

    const reasonA = String(await failedReasonOf(stack.queue, patA));
    expect(await failedFps('--type', DEPLOY)).toEqual([fp(deploy)]);
    expect(await failedFps('--reason', reasonA.split(':')[0] ?? '')).toContain(fp(patA));
    expect(await failedFps('--since', new Date(Date.now() + 3_600_000).toISOString())).toEqual([]);
    expect(await failedFps('--instance', 'nowhere')).toEqual([]);
    const instances = (listed.failed as Array<{ instance?: string }>).map((f) => f.instance).filter((i): i is string => i !== undefined);
    if (instances[0] !== undefined) expect((await failedFps('--instance', instances[0])).length).toBe(instances.filter((i) => i === instances[0]).length);
    expect((await cli(['failed', 'list', '--since', 'yesterday'])).code).toBe(2);
  });

  it('resolve: the token is marked handled (audited), leaves the failed set, and a resend does not queue it again', async () => {
    const view = await json(['resolve', fp(patB).slice(0, 10), '--reason', 'rotated by hand', '--actor', 'alice']);
    expect(view).toMatchObject({ fingerprint: fp(patB), state: 'resolved' });
    expect(view.events[0]).toMatchObject({ event: 'resolved', actor: 'cli:alice', detail: 'rotated by hand' });
    const audit = await json(['audit', '--fingerprint', fp(patB).slice(0, 10)]);
    expect(audit.entries[0]).toMatchObject({ action: 'resolve', actor: 'cli:alice', fingerprint: fp(patB), detail: 'rotated by hand' });
    expect(await failedFps()).toEqual([fp(patA), fp(deploy)].sort());
    expect(await stack.queue.getJob(fp(patB))).toBeUndefined();

    const deletesBefore = stack.gitlab.calls().filter((c) => c.method === 'DELETE' && c.token === patB).length;
    await submit(item(patB)); // GitLab resends the whole batch
    await eventually(async () => (await recordField(patB, 'received')) === '2', 'the resend received');
    await new Promise((r) => setTimeout(r, 300));
    expect(await stack.queue.getJob(fp(patB))).toBeUndefined();
    expect(stack.gitlab.calls().filter((c) => c.method === 'DELETE' && c.token === patB)).toHaveLength(deletesBefore);
    expect((await json(['show', fp(patB)])).state).toBe('resolved');

    const again = await cli(['resolve', fp(patB), '--reason', 'twice']);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/not in the failed set/);
  });

  it('replay --all, once the cause is fixed: prints what it queued, the tokens get revoked, show has the full history', async () => {
    const failed = await json(['show', fp(patA)]);
    expect(failed).toMatchObject({ state: 'failed', attempts: 1, lastError: expect.any(String) });
    expect(failed.lastSummary).not.toMatch(new RegExp(`^${failed.lastError}:`)); // the class is said once, not twice
    const failedHuman = (await cli(['show', fp(patA)])).stdout;
    expect(failedHuman).toMatch(new RegExp(`^last error\\s+${failed.lastError}: `, 'm'));
    expect(failedHuman).not.toContain(`${failed.lastError}: ${failed.lastError}`);
    stack.gitlab.faults.clear();
    const dry = await json(['replay', '--all', '--dry-run']);
    expect([...dry.wouldQueue].sort()).toEqual([fp(patA), fp(deploy)].sort());
    expect(await failedFps()).toHaveLength(2); // a dry run changes nothing

    const run = await cli(['replay', '--all', '--actor', 'bob']);
    expect(run.code).toBe(0);
    const lines = run.stdout.trim().split('\n');
    expect(lines.slice(0, -1).sort()).toEqual([short(fp(patA)), short(fp(deploy))].sort());
    expect(lines.at(-1)).toMatch(/^queued 2 token\(s\)/);
    await eventually(() => stack.gitlab.stateOf(patA) === 'revoked' && stack.gitlab.stateOf(deploy) === 'revoked', 'replayed tokens revoked at GitLab');
    await eventually(async () => (await recordField(patA, 'state')) === 'revoked', 'record revoked');

    const view = await json(['show', fp(patA).slice(0, 10)]);
    // The failure is history, not the token's current last error; and both attempts are counted, not just this run's.
    expect(view).not.toHaveProperty('lastError');
    expect(view).not.toHaveProperty('lastSummary');
    expect(view.attempts).toBe(2);
    const events = (view.events as Array<{ event: string; actor: string }>).map((e) => `${e.event}/${e.actor}`);
    expect(events[0]).toBe('revoked/service');
    expect(events).toContain('replayed/cli:bob');
    expect(events).toContain('failed/service');
    expect(events).toContain('accepted/service'); // not necessarily last: fan-out queues the job before it records `accepted`
    const human = await cli(['show', fp(patA).slice(0, 10)]);
    expect(human.stdout).toMatch(/^state\s+revoked/m);
    expect(human.stdout).toMatch(/replayed\s+cli:bob\s+was: /);
    expect(human.stdout).toContain(fp(patA));
    expect(human.stdout).not.toMatch(/^last error/m);
    expect(human.stdout).toMatch(/^attempts\s+2$/m);

    expect(await json(['replay', '--all'])).toEqual({ count: 0, queued: [] });
    expect((await json(['audit', '--fingerprint', fp(deploy)])).entries).toContainEqual(expect.objectContaining({ action: 'replay', actor: 'cli:bob', fingerprint: fp(deploy) }));
  });

  it('lookup reads the token from standard input and prints its record, in the shape show prints, and exits 1 without one', async () => {
    const found = await json(['lookup'], { input: `${patA}\n` });
    expect(found).toMatchObject({ fingerprint: fp(patA), state: 'revoked' });
    expect(found).toEqual(await json(['show', fp(patA)])); // one shape: the record at the top level, fingerprint in it
    const human = await cli(['lookup'], { input: patA });
    expect(human.code).toBe(0);
    expect(human.stdout).toContain(fp(patA));
    expect(human.stdout).toMatch(/^state\s+revoked/m);

    const unknown = `glpat-${'x'.repeat(20)}`;
    tokens.push(unknown);
    for (const args of [['lookup'], ['lookup', '--json']]) {
      const none = await cli(args, { input: unknown });
      expect(none).toMatchObject({ code: 1, stdout: '' }); // as show of an unknown prefix: nothing found is a failure
      expect(none.stderr).toMatch(new RegExp(`^trapi: no record of the token with fingerprint ${fingerprint(unknown)}`));
      expect(none.stderr.trim().split('\n')).toHaveLength(1);
    }
    const empty = await cli(['lookup'], { input: '' });
    expect(empty.code).toBe(2);
    expect(empty.stderr).toMatch(/no token on standard input/);
    for (const args of [['lookup', patA], ['lookup', `--${patA}`]]) expect((await cli(args)).code).toBe(2); // never from an argument, nor echoed back
  });
});

describe('trapi pause and resume', () => {
  it('pause stops revocations (status shows it), resume lets them run; both audited with the default actor', async () => {
    expect(await json(['pause'])).toEqual({ paused: true, actor: defaultActor });
    expect((await cli(['status'])).stdout).toMatch(/^processing\s+PAUSED/m);
    const t = token('personal_access_token');
    await submit(item(t));
    await eventually(async () => (await recordField(t, 'received')) === '1', 'the token received');
    await new Promise((r) => setTimeout(r, 800));
    expect(stack.gitlab.stateOf(t)).toBe('active');

    const resumed = await cli(['resume']);
    expect(resumed.code).toBe(0);
    expect(resumed.stdout).toMatch(/resumed/);
    await eventually(() => stack.gitlab.stateOf(t) === 'revoked', 'revoked after resume');
    expect((await json(['status'])).paused).toBe(false);
    const audit = (await json(['audit', '--limit', '5'])).entries as Array<{ action: string; actor: string }>;
    const operator = audit.filter((e) => e.actor !== 'service').map((e) => `${e.action}/${e.actor}`);
    expect(operator.slice(0, 2)).toEqual([`resume/${defaultActor}`, `pause/${defaultActor}`]);
  });
});

describe('trapi errors and exit codes', () => {
  const oneLine = (r: Run) => r.stderr.trim().split('\n').length === 1 && r.stderr.startsWith('trapi: ');

  it('exits 1 when the operation fails, 2 on a usage error, with a one-line message on stderr', async () => {
    const [unknownFp, badFp, noSelector, twoSelectors, noReason, notFailed, unknownCommand, badOption] = await Promise.all([
      cli(['show', 'deadbeefdeadbeef']),
      cli(['show', 'not-a-fingerprint']),
      cli(['replay']),
      cli(['replay', '--all', '--type', DEPLOY]),
      cli(['resolve', 'deadbeefdeadbeef']),
      cli(['replay', 'deadbeefdeadbeef']),
      cli(['frobnicate']),
      cli(['status', '--verbose']),
    ]);
    expect(unknownFp).toMatchObject({ code: 1, stdout: '' });
    expect(unknownFp.stderr).toMatch(/no token record starts with deadbeefdeadbeef/);
    expect(badFp.code).toBe(2);
    expect(noSelector.code).toBe(2);
    expect(noSelector.stderr).toMatch(/replay needs a selector/);
    expect(twoSelectors.code).toBe(2);
    expect(noReason.code).toBe(2);
    expect(noReason.stderr).toMatch(/--reason/);
    expect(notFailed.code).toBe(1);
    for (const r of [unknownCommand, badOption]) expect(r.code).toBe(2);
    for (const r of [unknownFp, badFp, noSelector, twoSelectors, noReason, notFailed, unknownCommand]) expect(oneLine(r)).toBe(true);
  });

  it('exits 2 on a bad configuration, 1 when Redis cannot be reached or no service is known', async () => {
    const emptyDataDir = mkdtempSync(join(tmpdir(), 'trapi-cli-'));
    try {
      const [badConfig, unreachable, noService] = await Promise.all([
        cli(['status'], { env: { PATH: env['PATH'], REDIS_URL: stack.redis.url, GITLAB_URL: stack.gitlab.url } }), // no secrets
        freePort().then((port) => cli(['status', '--json'], { env: { ...env, REDIS_URL: `redis://:secret-password@127.0.0.1:${port}` } })),
        cli(['failed', 'list'], { env: { PATH: env['PATH'], DATA_DIR: emptyDataDir } }), // sandbox mode, nothing running
      ]);
      expect(badConfig.code).toBe(2);
      expect(badConfig.stderr).toMatch(/REVOCATION_API_TOKENS is required/);
      expect(unreachable).toMatchObject({ code: 1, stdout: '' });
      expect(unreachable.stderr).toMatch(/cannot reach Redis at 127\.0\.0\.1:\d+ .*ECONNREFUSED/);
      expect(unreachable.stderr).not.toContain('secret-password');
      expect(noService.code).toBe(1);
      expect(noService.stderr).toMatch(/start the service .* or set REDIS_URL/);
      expect(readdirSync(emptyDataDir)).toEqual([]); // the CLI stored no sandbox secrets
    } finally {
      rmSync(emptyDataDir, { recursive: true, force: true });
    }
  });

  it('--help on the command and on each subcommand', async () => {
    const top = await cli(['--help']);
    expect(top.code).toBe(0);
    for (const c of ['status', 'failed list', 'show', 'replay', 'resolve', 'lookup', 'types', 'pause', 'resume', 'audit']) expect(top.stdout).toContain(`  ${c} `);
    const sub = await cli(['replay', '--help']);
    expect(sub.code).toBe(0);
    expect(sub.stdout).toContain('--all');
    expect((await cli([])).code).toBe(2);
  });
});

describe('trapi status in sandbox mode', () => {
  let sandbox: Service | undefined;
  const dataDir = mkdtempSync(join(tmpdir(), 'trapi-cli-sandbox-'));
  const ADMIN = 'ops:cli-test-admin-credential-0001';

  // Before the stack's afterAll (hooks run in order): the sandbox service stops before its Redis.
  afterAll(async () => {
    await sandbox?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });
  // Its own Redis: the sandbox's workers must not take the other tests' jobs. The sandbox service is not a test one.
  const sandboxStack = useStack({ gitlab: false, service: false });
  beforeAll(async () => {
    const config = loadConfig({ REDIS_URL: sandboxStack.redis.url, DATA_DIR: dataDir, PORT: '0', HOST: '127.0.0.1', ADMIN_API_TOKENS: ADMIN, LOG_LEVEL: 'warn' });
    sandbox = await startService(config, captureLogs('warn').logger);
  });

  it('reports the same credentials as /admin/status (the simulator the service adds, not an empty list)', async () => {
    const adminStatus = async () => (await request(sandbox?.url ?? '').get('/admin/status').set('Authorization', `Bearer ${ADMIN.split(':')[1]}`).expect(200)).body as { credentials: Record<string, { checkedAt: string | null }> };
    await eventually(async () => (await adminStatus()).credentials['sandbox:admin']?.checkedAt != null, 'the sandbox credential checked once');
    const served = (await adminStatus()).credentials;
    const run = await cli(['status', '--json'], { env: { PATH: env['PATH'], REDIS_URL: sandboxStack.redis.url, DATA_DIR: dataDir } });
    expect({ code: run.code, stderr: run.stderr }).toEqual({ code: 0, stderr: '' });
    expect(Object.keys(served)).toEqual(['sandbox:admin']);
    expect((JSON.parse(run.stdout) as { credentials: unknown }).credentials).toEqual(served);
  });
});

describe('secrets', () => {
  it('no CLI output ever contains a token', () => {
    expect(outputs.length).toBeGreaterThan(20);
    for (const t of tokens) for (const o of outputs) expect(`${o.stdout}\n${o.stderr}`.includes(t)).toBe(false);
  });
});
