import type { Redis } from 'ioredis';
import request from 'supertest';
import { startGitLabSimulator, type GitLabSimulator } from '../../simulator/index.js';
import { startTestRedis, type TestRedis } from '../support/redis.js';
import { API_TOKEN, startTestService, type TestService } from '../support/service.js';

const PAT = 'gitleaks_rule_id_gitlab_personal_access_token';
const TOKEN = 'glpat-BadRequestToken12345';
const ok = { type: PAT, token: TOKEN, location: 'https://x/y' };
const MAX_ITEMS = 50;
const MAX_BODY = 64 * 1024;

let redis: TestRedis;
let client: Redis;
let sim: GitLabSimulator;
let svc: TestService;

beforeAll(async () => {
  redis = await startTestRedis();
  client = redis.client();
  sim = await startGitLabSimulator();
  // The API role alone: anything enqueued would stay in Redis for the assertion below to see.
  svc = await startTestService(redis.url, sim.url, sim.adminToken, {
    ROLE: 'api',
    MAX_TOKENS_PER_REQUEST: String(MAX_ITEMS),
    MAX_BODY_BYTES: String(MAX_BODY),
    MAX_JSON_DEPTH: '8',
  });
});
afterAll(async () => {
  await svc?.stop();
  await sim?.stop();
  await redis?.stop();
});

interface Case {
  readonly body?: string;
  readonly encoding?: string;
  /** A declared Content-Length larger than the body: refused before reading. */
  readonly length?: number;
  readonly contentType?: string | null;
  readonly auth?: string | null;
}

const json = (v: unknown): string => JSON.stringify(v);
const deep = (n: number): unknown => (n === 0 ? 1 : [deep(n - 1)]);

const cases: ReadonlyArray<[string, Case, number, string]> = [
  ['truncated JSON', { body: '[{"type":' }, 400, 'invalid_json'],
  ['trailing garbage', { body: '[] x' }, 400, 'invalid_json'],
  ['single quotes', { body: "[{'type':'x'}]" }, 400, 'invalid_json'],
  ['a bare string', { body: '"glpat-BadRequestToken12345"' }, 400, 'invalid_json'],
  ['a bare number', { body: '42' }, 400, 'invalid_json'],
  ['null', { body: 'null' }, 400, 'invalid_json'],
  ['an object instead of an array', { body: json(ok) }, 400, 'invalid_request'],
  ['an array of strings', { body: json([TOKEN]) }, 400, 'invalid_request'],
  ['an array holding null', { body: json([null]) }, 400, 'invalid_request'],
  ['nested arrays', { body: json([[ok]]) }, 400, 'invalid_request'],
  ['a missing token', { body: json([{ type: PAT }]) }, 400, 'invalid_request'],
  ['a missing type', { body: json([{ token: TOKEN }]) }, 400, 'invalid_request'],
  ['a numeric token', { body: json([{ type: PAT, token: 12345 }]) }, 400, 'invalid_request'],
  ['a numeric type', { body: json([{ type: 7, token: TOKEN }]) }, 400, 'invalid_request'],
  ['an array as token', { body: json([{ type: PAT, token: [TOKEN] }]) }, 400, 'invalid_request'],
  ['an empty token', { body: json([{ type: PAT, token: '' }]) }, 400, 'invalid_request'],
  ['an empty type', { body: json([{ type: '', token: TOKEN }]) }, 400, 'invalid_request'],
  ['a numeric location', { body: json([{ ...ok, location: 3 }]) }, 400, 'invalid_request'],
  ['an object as url', { body: json([{ type: PAT, token: TOKEN, url: { href: 'x' } }]) }, 400, 'invalid_request'],
  ['a __proto__ key', { body: `[{"type":"${PAT}","token":"${TOKEN}","__proto__":{"polluted":true}}]` }, 400, 'invalid_request'],
  ['a constructor key', { body: json([{ ...ok, constructor: { prototype: {} } }]) }, 400, 'invalid_request'],
  ['a prototype key', { body: json([{ ...ok, prototype: 1 }]) }, 400, 'invalid_request'],
  ['an oversized token', { body: json([{ ...ok, token: `glpat-${'a'.repeat(1100)}` }]) }, 400, 'invalid_request'],
  ['an oversized location', { body: json([{ ...ok, location: `https://x/${'a'.repeat(4100)}` }]) }, 400, 'invalid_request'],
  ['an oversized type', { body: json([{ ...ok, type: 't'.repeat(201) }]) }, 400, 'invalid_request'],
  ['too many items', { body: json(Array.from({ length: MAX_ITEMS + 1 }, (_, i) => ({ ...ok, token: `${TOKEN}${i}` }))) }, 400, 'invalid_request'],
  ['a body over the size limit', { body: json([{ ...ok, vulnerability: 'v'.repeat(MAX_BODY) }]) }, 413, 'payload_too_large'],
  ['nesting over the depth limit', { body: json([{ ...ok, vulnerability: deep(10) }]) }, 400, 'invalid_request'],
  ['one valid and one invalid item', { body: json([ok, { type: PAT }]) }, 400, 'invalid_request'],
  ['an empty body', { body: '' }, 400, 'invalid_request'],
  ['text/plain', { body: json([ok]), contentType: 'text/plain' }, 415, 'unsupported_media_type'],
  ['a form body', { body: `type=${PAT}&token=${TOKEN}`, contentType: 'application/x-www-form-urlencoded' }, 415, 'unsupported_media_type'],
  ['no content type', { body: json([ok]), contentType: null }, 415, 'unsupported_media_type'],
  ['a latin-1 charset', { body: json([ok]), contentType: 'application/json; charset=latin1' }, 415, 'unsupported_media_type'],
  ['a gzip content coding', { body: json([ok]), contentType: 'application/json', encoding: 'gzip' }, 415, 'unsupported_media_type'],
  ['a Content-Length over the size limit', { body: json([ok]), length: MAX_BODY + 1 }, 413, 'payload_too_large'],
  ['no credential', { body: json([ok]), auth: null }, 401, 'unauthorized'],
  ['a wrong credential', { body: json([ok]), auth: 'not-the-shared-secret-at-all' }, 401, 'unauthorized'],
  ['a wrong Bearer credential', { body: json([ok]), auth: 'Bearer not-the-shared-secret-at-all' }, 401, 'unauthorized'],
  ['the right secret under another scheme', { body: json([ok]), auth: `Token ${API_TOKEN}` }, 401, 'unauthorized'],
  ['the right secret with a suffix', { body: json([ok]), auth: `${API_TOKEN}x` }, 401, 'unauthorized'],
  ['a Bearer credential and an invalid body', { body: json({}), auth: `Bearer ${API_TOKEN}` }, 400, 'invalid_request'],
];

/** Intake jobs (one per accepted request) and revocation jobs (one per token): neither may appear. */
async function enqueuedJobs(): Promise<number> {
  const keys = await client.keys('trapi:*');
  return keys.filter((k) => /^trapi:(intake|revocations):[0-9a-f]{64}$/.test(k)).length;
}

describe('POST /v1/revoke_tokens with bad requests', () => {
  it(`covers at least 30 cases (has ${cases.length})`, () => expect(cases.length).toBeGreaterThanOrEqual(30));

  it.each(cases)('answers %s with %i %s and enqueues nothing', async (_name, c, status, code) => {
    let req = request(svc.url).post('/v1/revoke_tokens');
    if (c.auth !== null) req = req.set('Authorization', c.auth ?? API_TOKEN);
    if (c.contentType !== null) req = req.set('Content-Type', c.contentType ?? 'application/json');
    if (c.encoding) req = req.set('Content-Encoding', c.encoding);
    if (c.length) req = req.set('Content-Length', String(c.length));
    const res = await req.send(c.body ?? '');
    expect(res.status).toBe(status);
    expect(res.headers['content-type']).toMatch(/application\/json/);
    expect(res.body).toEqual(expect.objectContaining({ error: code, message: expect.any(String) }));
    expect(res.text).not.toContain(TOKEN);
    expect(res.text).not.toContain(API_TOKEN);
    expect(await enqueuedJobs()).toBe(0);
  });

  it('names each bad item by index and path', async () => {
    const res = await request(svc.url)
      .post('/v1/revoke_tokens')
      .set('Authorization', API_TOKEN)
      .send([ok, { type: PAT, token: 5 }, { token: TOKEN }]);
    expect(res.status).toBe(400);
    expect(res.body.details).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ index: 1, path: '/1/token' }),
        expect.objectContaining({ index: 2, path: '/2', message: expect.stringContaining("'type'") }),
      ]),
    );
  });

  it('still enqueues a good batch afterwards (the checks above could see a job)', async () => {
    const res = await request(svc.url).post('/v1/revoke_tokens').set('Authorization', API_TOKEN).send([ok]);
    expect(res.status).toBe(204);
    expect(await enqueuedJobs()).toBe(1);
  });
});
