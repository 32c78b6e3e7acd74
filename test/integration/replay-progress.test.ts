// Long operations show progress: trapi replay and rekey on a terminal (stderr), and the admin API's replay of many
// tokens, which answers 202 at once with a handle to poll (GET /admin/replays/{id}).
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import { Ajv } from 'ajv';
import request from 'supertest';
import { main, type CliIo } from '../../src/cli.js';
import { schemaPath } from '../../src/paths.js';
import { API_TOKEN, eventually, item } from '../support/service.js';
import { useStack } from '../support/stack.js';

const ADMIN = `progress-admin-secret-${randomBytes(12).toString('hex')}`;
const N = 40;

let tokens: string[];

const runSchema = new Ajv({ strict: true, formats: { 'date-time': true } }).compile(JSON.parse(readFileSync(schemaPath('admin-replay-run.schema.json'), 'utf8')) as object);
const queuedSchema = new Ajv({ strict: true }).compile(JSON.parse(readFileSync(schemaPath('admin-replay-queued.schema.json'), 'utf8')) as object);

// Before the stack's afterAll (hooks run in order): the service stops with GitLab answering again.
afterAll(() => stack.gitlab.faults.clear());
const stack = useStack({ env: { STRATEGY_ORDER: 'admin', ADMIN_API_TOKENS: `oncall:${ADMIN}` } });
beforeAll(async () => {
  // GitLab refuses every revocation for the whole file: a replayed token goes back to the failed set.
  stack.gitlab.faults.failUntilCleared(400, { method: 'DELETE', body: { message: { error: 'Cannot revoke' } } });
  tokens = Array.from({ length: N }, () => stack.gitlab.createToken('personal_access_token'));
  await request(stack.service.url).post('/v1/revoke_tokens').set('Authorization', API_TOKEN).send(tokens.map((t) => item(t))).expect(204);
  await allFailed();
}, 60_000);

const allFailed = () => eventually(async () => (await stack.queue.getFailedCount()) === N, `all ${N} tokens in the failed set`, 30_000);

/** Runs trapi in this process, with a stderr that says it is (or is not) a terminal. */
async function trapi(args: string[], tty: boolean, input?: string): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const io: CliIo = {
    stdout: { write: (t: string) => (stdout += t) },
    stderr: { write: (t: string) => (stderr += t), isTTY: tty },
    stdin: input === undefined ? process.stdin : Readable.from([input]),
    env: { ...stack.env(), LOG_LEVEL: 'warn' },
  };
  const code = await main(args, io);
  return { code, stdout, stderr };
}

describe('trapi replay and rekey on a terminal', () => {
  it('replay --all shows its progress on stderr, ending with the full count', async () => {
    const r = await trapi(['replay', '--all', '--actor', 'progress-test'], true);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(new RegExp(`\\rreplayed ${N}/${N}\\n$`));
    for (const [, done, total] of r.stderr.matchAll(/replayed (\d+)\/(\d+)/g)) {
      expect(Number(total)).toBe(N);
      expect(Number(done)).toBeLessThanOrEqual(N);
    }
    expect(r.stdout).toContain(`queued ${N} token(s)`);
    expect(r.stdout).not.toContain('replayed');
    await allFailed();
  });

  it('prints nothing extra with --json, nor when stderr is not a terminal', async () => {
    const json = await trapi(['replay', '--all', '--json'], true);
    expect(json.code).toBe(0);
    expect(json.stderr).toBe('');
    expect(JSON.parse(json.stdout)).toMatchObject({ count: N });
    await allFailed();
    const piped = await trapi(['replay', '--all'], false);
    expect(piped.code).toBe(0);
    expect(piped.stderr).toBe('');
    await allFailed();
  });

  it('rekey shows how many jobs it has looked at', async () => {
    const r = await trapi(['rekey'], true);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(new RegExp(`\\rre-sealed \\(jobs looked at\\) (\\d+)/\\1\\n$`));
    expect(Number(/(\d+)\/\d+\n$/.exec(r.stderr)?.[1])).toBeGreaterThanOrEqual(N);
    expect((await trapi(['rekey', '--json'], true)).stderr).toBe('');
  });
});

describe('POST /admin/replay of many tokens', () => {
  const admin = (t: request.Test) => t.set('Authorization', `Bearer ${ADMIN}`);

  it('answers 202 at once with a handle; polling it shows the progress, then done with the count queued', async () => {
    const started = await admin(request(stack.service.url).post('/admin/replay')).send({ all: true });
    expect(started.status).toBe(202);
    expect(runSchema(started.body)).toBe(true);
    expect(started.body.replay).toMatchObject({ state: 'running', done: 0, queued: 0, actor: 'admin:oncall' });
    const id = started.body.replay.id as string;
    expect(started.headers['location']).toBe(`/admin/replays/${id}`);

    const seen: Array<{ state: string; done: number; total: number }> = [];
    await eventually(async () => {
      const poll = await admin(request(stack.service.url).get(`/admin/replays/${id}`));
      expect(poll.status).toBe(200);
      expect(runSchema(poll.body)).toBe(true);
      seen.push(poll.body.replay);
      return poll.body.replay.state === 'done';
    }, 'the replay to finish');
    const last = seen[seen.length - 1];
    expect(last).toMatchObject({ state: 'done', total: N, done: N, queued: N });
    expect(last).toHaveProperty('finishedAt');
    // Progress only moves forward.
    for (let i = 1; i < seen.length; i++) expect(seen[i]?.done).toBeGreaterThanOrEqual(seen[i - 1]?.done ?? 0);
    await allFailed();
  });

  it('a filter is a background replay too; an unknown handle is 404', async () => {
    const started = await admin(request(stack.service.url).post('/admin/replay')).send({ filter: { reason: 'no_such_reason' } });
    expect(started.status).toBe(202);
    await eventually(async () => (await admin(request(stack.service.url).get(String(started.headers['location'])))).body.replay.state === 'done', 'the empty replay to finish');
    expect((await admin(request(stack.service.url).get(String(started.headers['location'])))).body.replay).toMatchObject({ total: 0, done: 0, queued: 0 });
    const unknown = await admin(request(stack.service.url).get('/admin/replays/00000000-0000-4000-8000-000000000000'));
    expect(unknown.status).toBe(404);
    expect(unknown.body.error).toBe('not_found');
    expect((await admin(request(stack.service.url).get('/admin/replays/not-an-id'))).status).toBe(404);
    expect((await request(stack.service.url).get(`/admin/replays/${String(started.body.replay.id)}`)).status).toBe(401);
  });

  it('one fingerprint still answers directly, with what it queued', async () => {
    const { fingerprint } = await import('../../src/domain/fingerprint.js');
    const fp = fingerprint(tokens[0] ?? '');
    const res = await admin(request(stack.service.url).post('/admin/replay')).send({ fingerprint: fp.slice(0, 12) });
    expect(res.status).toBe(200);
    expect(queuedSchema(res.body)).toBe(true);
    expect(res.body).toEqual({ queued: [fp] });
    await allFailed();
  });
});

describe('trapi resolve of many tokens (last: it leaves the failed set smaller)', () => {
  it('resolves fingerprints read from stdin with progress on a terminal; one not failed is reported, the others go on', async () => {
    const { fingerprint } = await import('../../src/domain/fingerprint.js');
    const some = tokens.slice(30, 40).map((t) => fingerprint(t));
    const r = await trapi(['resolve', '-', '--reason', 'revoked by hand, SEC-9'], true, `${some.join('\n')}\n`);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/\rresolved 10\/10\n$/);
    expect(r.stdout).toContain('resolved 10 of 10 token(s)');
    expect(await stack.queue.getFailedCount()).toBe(N - 10);

    const again = await trapi(['resolve', some[0] ?? '', fingerprint(tokens[29] ?? ''), '--reason', 'by hand', '--json'], true);
    expect(again.code).toBe(1); // the first is no longer failed
    expect(again.stderr).toBe('');
    const doc = JSON.parse(again.stdout) as { count: number; resolved: Array<{ fingerprint: string }>; refused: Array<{ error: string }> };
    expect(doc.resolved.map((x) => x.fingerprint)).toEqual([fingerprint(tokens[29] ?? '')]);
    expect(doc.refused).toEqual([expect.objectContaining({ error: 'not_failed' })]);
  });
});
