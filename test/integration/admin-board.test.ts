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
