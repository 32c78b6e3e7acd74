// The admin API and Bull Board at their exact paths only, counted under a bounded route label, and a board page that
// makes no request to another host.
import { randomBytes } from 'node:crypto';
import request from 'supertest';
import { startGitLabSimulator, type GitLabSimulator } from '../../simulator/index.js';
import { startTestRedis, type TestRedis } from '../support/redis.js';
import { startTestService, type TestService } from '../support/service.js';

const ADMIN = `board-admin-secret-${randomBytes(12).toString('hex')}`;

let redis: TestRedis;
let sim: GitLabSimulator;
let svc: TestService;

beforeAll(async () => {
  redis = await startTestRedis();
  sim = await startGitLabSimulator();
  svc = await startTestService(redis.url, sim.url, sim.adminToken, { ROLE: 'api', ADMIN_API_TOKENS: `oncall:${ADMIN}` });
});
afterAll(async () => {
  await svc?.stop();
  await sim?.stop();
  await redis?.stop();
});

const get = (path: string) => request(svc.url).get(path).set('Authorization', `Bearer ${ADMIN}`);

describe('admin routing is strict and case-sensitive', () => {
  it.each(['/admin/status/', '/ADMIN/status', '/admin/Status', '/Admin/queues', '/ADMIN/QUEUES', '/admin/failed/'])('answers GET %s with 404 not_found', async (path) => {
    const res = await get(path);
    expect(res.status).toBe(404);
    expect(res.body).toEqual({ error: 'not_found', message: expect.any(String) });
  });

  it('still answers the exact paths', async () => {
    expect((await get('/admin/status')).status).toBe(200);
    expect((await get('/admin/failed')).status).toBe(200);
    expect((await get('/admin/queues')).status).toBe(200);
  });
});

/** The request counter's samples, as `route method status` -> count. */
async function requestCounts(): Promise<Map<string, number>> {
  const res = await request(svc.url).get('/metrics');
  expect(res.status).toBe(200);
  const counts = new Map<string, number>();
  for (const line of res.text.split('\n')) {
    const m = /^trapi_http_requests_total\{(.*)\} (\S+)$/.exec(line);
    if (!m) continue;
    const labels = Object.fromEntries([...(m[1] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((l) => [l[1], l[2]]));
    counts.set(`${labels['route']} ${labels['method']} ${labels['status']}`, Number(m[2]));
  }
  return counts;
}

describe('Bull Board in the request metric', () => {
  it('counts every board request under route="/admin/queues", never its raw path or "unmatched"', async () => {
    const before = await requestCounts();
    const page = await get('/admin/queues');
    const script = /src="(static\/js\/[^"]+\.js)"/.exec(page.text)?.[1];
    expect(script).toBeDefined();
    const paths = ['/admin/queues', '/admin/queues/', `/admin/queues/${script}`, '/admin/queues/api/queues?activeQueue=revocations&status=latest&page=1', '/admin/queues/queue/revocations', `/admin/queues/static/no-such-${randomBytes(4).toString('hex')}.js`];
    for (const path of paths) await get(path);
    await request(svc.url).get('/admin/queues'); // no credential: 401
    const after = await requestCounts();
    const grown = [...after].filter(([k, n]) => n > (before.get(k) ?? 0)).map(([k]) => k);
    expect(grown.filter((k) => !k.startsWith('/metrics '))).toEqual(expect.arrayContaining(['/admin/queues GET 200', '/admin/queues GET 401']));
    expect(grown.filter((k) => !k.startsWith('/metrics ') && !k.startsWith('/admin/queues '))).toEqual([]);
    expect((after.get('/admin/queues GET 200') ?? 0) - (before.get('/admin/queues GET 200') ?? 0)).toBeGreaterThanOrEqual(paths.length - 1);
    for (const key of after.keys()) expect(key).not.toMatch(/^\/admin\/queues\/|static|api\/queues/);
  });
});
