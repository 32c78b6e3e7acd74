// src/http/app.ts in memory: createApp over in-memory ports (our intake queue and token types stand-ins) and
// in-memory budgets, driven by supertest against the app object. What each answer must say: status, error code, headers.
import { MemoryStore, type IncrementResponse } from 'express-rate-limit';
import request from 'supertest';
import type { Enqueuer, Readiness, TokenTypes } from '../../src/domain/ports.js';
import type { AcceptedToken } from '../../src/domain/revocation.js';
import { StoreUnavailableError } from '../../src/errors.js';
import { createApp, type AppDeps } from '../../src/http/app.js';
import { createLogger } from '../../src/logger.js';

const API_TOKEN = 'a-long-shared-secret-for-app-tests';
const OTHER_API_TOKEN = 'another-long-shared-secret-for-app-tests';
const PAT = 'gitleaks_rule_id_gitlab_personal_access_token';
const TOKEN = 'glpat-0123456789abcdefghij';
const LIMITS = { maxTokensPerRequest: 3, maxTokenLength: 64, maxLocationLength: 256, maxBodyBytes: 1024, maxJsonDepth: 4 };
const POST_PER_MINUTE = 2;
const GET_PER_MINUTE = 3;

/** Stands in for the intake queue: keeps what the edge hands over, or refuses as Redis would when it is down. */
class InMemoryQueue implements Enqueuer {
  readonly tokens: AcceptedToken[] = [];
  down = false;

  enqueue(tokens: readonly AcceptedToken[]): Promise<{ readonly queued: number }> {
    if (this.down) return Promise.reject(new StoreUnavailableError(new Error('connection refused')));
    this.tokens.push(...tokens);
    return Promise.resolve({ queued: tokens.length });
  }
}

/** Stands in for the provider registry: one supported type. */
const tokenTypes: TokenTypes = { types: () => [PAT], supports: (type) => type === PAT };

/** An in-memory budget that also counts the hits it was given. */
class CountingStore extends MemoryStore {
  hits = 0;

  override async increment(key: string): Promise<IncrementResponse> {
    this.hits++;
    return super.increment(key);
  }
}

function appWith(deps: Partial<AppDeps> = {}) {
  const queue = new InMemoryQueue();
  const app = createApp({
    logger: createLogger('silent'),
    apiTokens: () => [API_TOKEN, OTHER_API_TOKEN],
    tokenTypes,
    enqueuer: queue,
    readiness: () => Promise.resolve<Readiness>({ ready: true, checks: { redis: 'ok' } }),
    limits: LIMITS,
    // No store: each budget counts in memory (express-rate-limit's MemoryStore), fresh for each app.
    rateLimit: { postPerMinute: POST_PER_MINUTE, getPerMinute: GET_PER_MINUTE },
    trustProxy: 0,
    ...deps,
  });
  return { app, queue };
}

type Api = ReturnType<typeof request>;
type Call = (api: Api) => request.Test;

const item = (token = TOKEN, type = PAT) => ({ type, token, location: 'https://gitlab.example.com/g/p/-/blob/main/.env' });
/** Posts `body` as given: a string or Buffer byte for byte (superagent would JSON-encode a Buffer), anything else as JSON. */
const post = (body: unknown, contentType = 'application/json'): Call => (api) =>
  api
    .post('/v1/revoke_tokens')
    .set('Authorization', API_TOKEN)
    .set('Content-Type', contentType)
    .serialize((raw) => raw)
    .send(typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body));
/** Posts `body` in chunks, without Content-Length, so that only the bytes read can tell its size. */
const postChunked = (body: string): Call => (api) => {
  const test = api.post('/v1/revoke_tokens').set('Authorization', API_TOKEN).set('Content-Type', 'application/json');
  for (let i = 0; i < body.length; i += 256) test.write(body.slice(i, i + 256));
  return test;
};
const getTypes: Call = (api) => api.get('/v1/revocable_token_types').set('Authorization', API_TOKEN);

const JSON_TYPE = 'application/json; charset=utf-8';
/** A header's expected value; `null`: the header must be absent. */
type Expected = string | RegExp | null;
/** The budget's draft-6 headers after `used` of `limit` requests in this minute. */
const budgetHeaders = (limit: number, used: number): Record<string, Expected> => ({
  'ratelimit-policy': `${limit};w=60`,
  'ratelimit-limit': String(limit),
  'ratelimit-remaining': String(Math.max(0, limit - used)),
  'ratelimit-reset': /^[1-9]\d*$/,
});
/** Refused before the budget is looked at: nothing counted, so no budget headers. */
const NO_BUDGET: Record<string, Expected> = { 'ratelimit-limit': null, 'ratelimit-remaining': null, 'retry-after': null };

interface Row {
  readonly when: string;
  readonly call: Call;
  readonly status: number;
  /** The JSON `error` code; null: not an error. */
  readonly error: string | null;
  readonly headers: Record<string, Expected>;
  /** Tokens handed to the queue. */
  readonly queued: number;
  /** The same call made this many times first, in the same minute (to spend a budget). */
  readonly earlier?: number;
}

const rows: Row[] = [
  // The happy path, and paths that are not endpoints.
  { when: 'GET /v1/revocable_token_types with the pre-shared token', call: getTypes, status: 200, error: null, headers: { 'content-type': JSON_TYPE, ...budgetHeaders(GET_PER_MINUTE, 1) }, queued: 0 },
  { when: 'a valid batch is posted', call: post([item()]), status: 204, error: null, headers: { 'content-type': null, ...budgetHeaders(POST_PER_MINUTE, 1) }, queued: 1 },
  { when: 'an empty batch is posted', call: post([]), status: 204, error: null, headers: budgetHeaders(POST_PER_MINUTE, 1), queued: 0 },
  { when: 'GET /openapi.json, without credential', call: (api) => api.get('/openapi.json'), status: 200, error: null, headers: { 'content-type': JSON_TYPE, ...NO_BUDGET }, queued: 0 },
  { when: 'GET /-/liveness', call: (api) => api.get('/-/liveness'), status: 200, error: null, headers: { 'content-type': JSON_TYPE }, queued: 0 },
  { when: 'an unknown path is asked for', call: (api) => api.get('/v1/nothing_here').set('Authorization', API_TOKEN), status: 404, error: 'not_found', headers: { 'content-type': JSON_TYPE, ...NO_BUDGET }, queued: 0 },
  { when: 'the path has a trailing slash (strict routing)', call: (api) => api.post('/v1/revoke_tokens/').set('Authorization', API_TOKEN).send([item()]), status: 404, error: 'not_found', headers: { 'content-type': JSON_TYPE }, queued: 0 },
  { when: 'the path is spelt in capitals (case-sensitive routing)', call: (api) => api.get('/V1/REVOCABLE_TOKEN_TYPES').set('Authorization', API_TOKEN), status: 404, error: 'not_found', headers: { 'content-type': JSON_TYPE }, queued: 0 },
  { when: 'the admin API is asked for and none is configured', call: (api) => api.get('/admin/status').set('Authorization', API_TOKEN), status: 404, error: 'not_found', headers: { 'content-type': JSON_TYPE }, queued: 0 },

  // 400: the body is not a batch we can take.
  { when: 'the body is not JSON', call: post('[{"type":'), status: 400, error: 'invalid_json', headers: { 'content-type': JSON_TYPE, ...budgetHeaders(POST_PER_MINUTE, 1) }, queued: 0 },
  { when: 'the body is a JSON scalar', call: post('"a string"'), status: 400, error: 'invalid_json', headers: { 'content-type': JSON_TYPE }, queued: 0 },
  { when: 'the body is not valid UTF-8', call: post(Buffer.from([0x5b, 0x22, 0xff, 0x22, 0x5d])), status: 400, error: 'invalid_encoding', headers: { 'content-type': JSON_TYPE }, queued: 0 },
  { when: 'the body is empty', call: post(''), status: 400, error: 'invalid_request', headers: { 'content-type': JSON_TYPE }, queued: 0 },
  { when: 'the body is an object, not an array', call: post(item()), status: 400, error: 'invalid_request', headers: { 'content-type': JSON_TYPE }, queued: 0 },
  { when: 'an item has no token', call: post([{ type: PAT }]), status: 400, error: 'invalid_request', headers: { 'content-type': JSON_TYPE }, queued: 0 },
  { when: 'the batch holds more items than allowed', call: post([1, 2, 3, 4].map((n) => item(`${TOKEN}${n}`))), status: 400, error: 'invalid_request', headers: { 'content-type': JSON_TYPE }, queued: 0 },
  { when: 'the body nests deeper than allowed', call: post('[{"a":[[[[1]]]]}]'), status: 400, error: 'invalid_request', headers: { 'content-type': JSON_TYPE }, queued: 0 },
  { when: 'an item has an unsupported type (the supported one is queued first)', call: post([item(), item(`${TOKEN}x`, 'no_such_type')]), status: 400, error: 'unsupported_token_type', headers: { 'content-type': JSON_TYPE }, queued: 1 },

  // 401: no or a wrong credential, refused before the budget.
  { when: 'no credential is presented', call: (api) => api.post('/v1/revoke_tokens').send([item()]), status: 401, error: 'unauthorized', headers: { 'content-type': JSON_TYPE, ...NO_BUDGET }, queued: 0 },
  { when: 'a wrong credential is presented', call: (api) => api.get('/v1/revocable_token_types').set('Authorization', 'someone-else-entirely'), status: 401, error: 'unauthorized', headers: { 'content-type': JSON_TYPE, ...NO_BUDGET }, queued: 0 },
  { when: 'a wrong Bearer credential is presented', call: (api) => api.post('/v1/revoke_tokens').set('Authorization', `Bearer ${API_TOKEN}x`).send([item()]), status: 401, error: 'unauthorized', headers: { 'content-type': JSON_TYPE, ...NO_BUDGET }, queued: 0 },

  // 405: the path exists, the method does not; Allow says which do.
  { when: 'GET /v1/revoke_tokens', call: (api) => api.get('/v1/revoke_tokens').set('Authorization', API_TOKEN), status: 405, error: 'method_not_allowed', headers: { 'content-type': JSON_TYPE, allow: 'POST', ...NO_BUDGET }, queued: 0 },
  { when: 'PUT /v1/revoke_tokens', call: (api) => api.put('/v1/revoke_tokens').set('Authorization', API_TOKEN).send([item()]), status: 405, error: 'method_not_allowed', headers: { 'content-type': JSON_TYPE, allow: 'POST' }, queued: 0 },
  { when: 'DELETE /v1/revocable_token_types', call: (api) => api.delete('/v1/revocable_token_types').set('Authorization', API_TOKEN), status: 405, error: 'method_not_allowed', headers: { 'content-type': JSON_TYPE, allow: 'GET, HEAD' }, queued: 0 },
  { when: 'POST /openapi.json', call: (api) => api.post('/openapi.json'), status: 405, error: 'method_not_allowed', headers: { 'content-type': JSON_TYPE, allow: 'GET, HEAD' }, queued: 0 },
  { when: 'POST /-/liveness', call: (api) => api.post('/-/liveness'), status: 405, error: 'method_not_allowed', headers: { 'content-type': JSON_TYPE, allow: 'GET, HEAD' }, queued: 0 },
  { when: 'PATCH /-/readiness', call: (api) => api.patch('/-/readiness'), status: 405, error: 'method_not_allowed', headers: { 'content-type': JSON_TYPE, allow: 'GET, HEAD' }, queued: 0 },

  // 413: a body over the configured size, by its Content-Length or by what arrives.
  { when: 'the body is larger than the limit', call: post([item('x'.repeat(LIMITS.maxBodyBytes))]), status: 413, error: 'payload_too_large', headers: { 'content-type': JSON_TYPE, ...budgetHeaders(POST_PER_MINUTE, 1) }, queued: 0 },
  { when: 'the body is larger than the limit and sent without Content-Length', call: postChunked(JSON.stringify([item('x'.repeat(LIMITS.maxBodyBytes))])), status: 413, error: 'payload_too_large', headers: { 'content-type': JSON_TYPE }, queued: 0 },

  // 415: not JSON, not UTF-8, or a content coding.
  { when: 'the Content-Type is text/plain', call: post([item()], 'text/plain'), status: 415, error: 'unsupported_media_type', headers: { 'content-type': JSON_TYPE, ...budgetHeaders(POST_PER_MINUTE, 1) }, queued: 0 },
  { when: 'there is no Content-Type', call: (api) => api.post('/v1/revoke_tokens').set('Authorization', API_TOKEN).send(Buffer.from(JSON.stringify([item()]))), status: 415, error: 'unsupported_media_type', headers: { 'content-type': JSON_TYPE }, queued: 0 },
  { when: 'the charset is not UTF-8', call: post([item()], 'application/json; charset=latin1'), status: 415, error: 'unsupported_media_type', headers: { 'content-type': JSON_TYPE }, queued: 0 },
  { when: 'the body is gzip-encoded', call: (api) => post([item()])(api).set('Content-Encoding', 'gzip'), status: 415, error: 'unsupported_media_type', headers: { 'content-type': JSON_TYPE }, queued: 0 },

  // 429: the minute's budget is spent; Retry-After says when to come back.
  { when: `a batch is posted after ${POST_PER_MINUTE} in the same minute`, earlier: POST_PER_MINUTE, call: post([item()]), status: 429, error: 'rate_limited', headers: { 'content-type': JSON_TYPE, 'retry-after': /^[1-9]\d*$/, ...budgetHeaders(POST_PER_MINUTE, POST_PER_MINUTE + 1) }, queued: POST_PER_MINUTE },
  { when: `the types are asked for after ${GET_PER_MINUTE} times in the same minute`, earlier: GET_PER_MINUTE, call: getTypes, status: 429, error: 'rate_limited', headers: { 'content-type': JSON_TYPE, 'retry-after': /^[1-9]\d*$/, ...budgetHeaders(GET_PER_MINUTE, GET_PER_MINUTE + 1) }, queued: 0 },
  { when: 'a refused body is posted after the budget is spent (the budget is checked first)', earlier: POST_PER_MINUTE, call: post('not json'), status: 429, error: 'rate_limited', headers: { 'content-type': JSON_TYPE, 'retry-after': /^[1-9]\d*$/ }, queued: 0 },
];

describe('createApp', () => {
  it.each(rows)('when $when, then it answers $status $error', async ({ call, status, error, headers, queued, earlier = 0 }) => {
    const { app, queue } = appWith();
    for (let i = 0; i < earlier; i++) await call(request(app));
    const res = await call(request(app));
    expect(res.status).toBe(status);
    if (error === null) expect(res.body?.error).toBeUndefined();
    else expect(res.body).toEqual(expect.objectContaining({ error, message: expect.any(String) }));
    for (const [name, want] of Object.entries(headers)) {
      if (want === null) expect([name, res.headers[name]]).toEqual([name, undefined]);
      else expect([name, res.headers[name]]).toEqual([name, typeof want === 'string' ? want : expect.stringMatching(want)]);
    }
    expect(queue.tokens).toHaveLength(queued);
    // No answer quotes the token or the credential.
    expect(res.text ?? '').not.toContain(TOKEN);
    expect(res.text ?? '').not.toContain(API_TOKEN);
  });

  it('answers 503 store_unavailable with Retry-After when the queue cannot take the batch', async () => {
    const { app, queue } = appWith();
    queue.down = true;
    const res = await post([item()])(request(app));
    expect(res.status).toBe(503);
    expect(res.body).toEqual({ error: 'store_unavailable', message: expect.any(String) });
    expect(res.headers['retry-after']).toBe('2');
    expect(res.headers['content-type']).toBe(JSON_TYPE);
  });

  it('answers 503 busy with Retry-After to a body that would pass the in-flight bound beside one held, and takes it once that one is answered', async () => {
    // Each batch stays in the queue's hands (as while Redis writes a big intake job) until it is released.
    const releases: Array<() => void> = [];
    const held: Enqueuer = { enqueue: (tokens) => new Promise((resolve) => releases.push(() => resolve({ queued: tokens.length }))) };
    const queued = async (n: number) => {
      while (releases.length < n) await new Promise((r) => setTimeout(r, 5));
    };
    const body = JSON.stringify([item()]);
    const { app } = appWith({ limits: { ...LIMITS, maxInflightBodyBytes: body.length + 10 }, enqueuer: held, rateLimit: { postPerMinute: 100, getPerMinute: 100 } });

    const first = post(body)(request(app)).then((r) => r);
    await queued(1);
    const refused = await post(body)(request(app));
    expect(refused.status).toBe(503);
    expect(refused.body.error).toBe('busy');
    expect(refused.headers['retry-after']).toBe('2');
    // Without Content-Length, the bytes are counted as they arrive.
    const refusedChunked = await postChunked(body)(request(app));
    expect([refusedChunked.status, refusedChunked.body.error]).toEqual([503, 'busy']);
    releases[0]?.();
    expect((await first).status).toBe(204);

    // Answered, the first body's bytes are free again: the same body is taken now.
    const again = post(body)(request(app)).then((r) => r);
    await queued(2);
    releases[1]?.();
    expect((await again).status).toBe(204);

    // A body alone is always taken, even one larger than the bound.
    const larger = post(JSON.stringify([item(), item('glpat-abcdefghij0123456789')]))(request(app)).then((r) => r);
    await queued(3);
    releases[2]?.();
    expect((await larger).status).toBe(204);
  });

  it('hands the queue each distinct token once, with its type and location', async () => {
    const { app, queue } = appWith();
    const res = await post([item(), item(), item(`${TOKEN}2`)])(request(app));
    expect(res.status).toBe(204);
    expect(queue.tokens).toEqual([
      { type: PAT, token: TOKEN, location: item().location },
      { type: PAT, token: `${TOKEN}2`, location: item().location },
    ]);
  });

  it('lists the types of the token-types port', async () => {
    const res = await getTypes(request(appWith().app));
    expect(res.body).toEqual({ types: [PAT] });
  });

  it('keys the budget by credential: a second pre-shared token has a budget of its own', async () => {
    const { app } = appWith();
    for (let i = 0; i < POST_PER_MINUTE; i++) expect((await post([])(request(app))).status).toBe(204);
    expect((await post([])(request(app))).status).toBe(429);
    const other = await request(app).post('/v1/revoke_tokens').set('Authorization', OTHER_API_TOKEN).send([]);
    expect(other.status).toBe(204);
    expect(other.headers['ratelimit-remaining']).toBe(String(POST_PER_MINUTE - 1));
  });

  it('reads the pre-shared tokens per request: a reload takes effect at once', async () => {
    let tokens = [API_TOKEN];
    const { app } = appWith({ apiTokens: () => tokens });
    expect((await getTypes(request(app))).status).toBe(200);
    tokens = [OTHER_API_TOKEN];
    expect((await getTypes(request(app))).status).toBe(401);
  });

  it('counts each budget in the store given for its name', async () => {
    const stores = { get: new CountingStore(), post: new CountingStore() };
    const { app } = appWith({ rateLimit: { postPerMinute: POST_PER_MINUTE, getPerMinute: GET_PER_MINUTE, store: (name) => stores[name] } });
    await post([])(request(app));
    await getTypes(request(app));
    await getTypes(request(app));
    expect([stores.post.hits, stores.get.hits]).toEqual([1, 2]);
  });

  it.each<[Readiness, number, string]>([
    [{ ready: true, checks: { redis: 'ok' } }, 200, 'ready'],
    [{ ready: true, degraded: true, checks: { redis: 'ok', credential: 'refused' } }, 200, 'degraded'],
    [{ ready: false, checks: { redis: 'unreachable' } }, 503, 'not_ready'],
  ])('when the readiness port says %j, then /-/readiness answers %i %s', async (readiness, status, word) => {
    const res = await request(appWith({ readiness: () => Promise.resolve(readiness) }).app).get('/-/readiness');
    expect(res.status).toBe(status);
    expect(res.body).toEqual({ status: word, checks: readiness.checks });
    expect(res.headers['content-type']).toBe(JSON_TYPE);
  });
});
