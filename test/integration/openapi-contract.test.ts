// The OpenAPI document (GET /openapi.json) against the real service: it is a valid OpenAPI 3.1 document, it embeds
// schemas/ as they are, and every answer of the real service (real Redis, the GitLab simulator) to a request of each
// documented status matches it: status listed for that operation, content type, body (Ajv, against the document's
// schema for that status) and required headers. An undocumented status fails, and so does a documented one no
// request here produces (bar the few named below, with why).
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { Validator } from '@seriousme/openapi-schema-validator';
import { Ajv, type ValidateFunction } from 'ajv';
import request, { type Response, type Test } from 'supertest';
import { fingerprint } from '../../src/domain/fingerprint.js';
import { EMBEDDED_SCHEMAS } from '../../src/http/openapi.js';
import { schemaPath } from '../../src/paths.js';
import { failedReasonOf, inspectQueue } from '../support/queue.js';
import { API_TOKEN, eventually, item } from '../support/service.js';
import { useStack } from '../support/stack.js';

const ADMIN = `contract-admin-secret-${randomBytes(12).toString('hex')}`;
const METRICS = `contract-metrics-secret-${randomBytes(12).toString('hex')}`;
const DEPLOY = 'gitleaks_rule_id_gitlab_deploy_token';
const MAX_BODY = 65_536;

/** Documented statuses no request here provokes, each with why. */
const NOT_PROVOKED: Readonly<Record<string, string>> = {
  'GET /admin/tokens/{fingerprint} 409': 'ambiguous_fingerprint needs two tokens whose SHA-256 share an 8-hex prefix',
};

type Doc = { paths: Record<string, Record<string, { responses: Record<string, { headers?: Record<string, { required?: boolean; schema?: { pattern?: string } }>; content?: Record<string, unknown> }> }>> };

// Three services, each on a Redis of its own, one simulator. A stack borrowing the simulator stops after it (afterAll
// hooks run in order), which costs nothing: a service's stop makes no call to GitLab.
afterAll(() => stack.gitlab.faults.clear()); // before the stacks' own: the services stop with GitLab answering again
const stack = useStack({ env: { STRATEGY_ORDER: 'admin', ADMIN_API_TOKENS: `oncall:${ADMIN}`, METRICS_TOKEN: METRICS, MAX_BODY_BYTES: String(MAX_BODY) } });
const limited = useStack({ gitlab: () => stack.gitlab, env: { ROLE: 'api', RATE_LIMIT_PER_MINUTE: '1', RATE_LIMIT_GET_PER_MINUTE: '1' } });
/** Its Redis is killed. */
const doomed = useStack({ gitlab: () => stack.gitlab });
let doc: Doc;
let ajv: Ajv;
const seen = new Set<string>();
const compiled = new Map<string, ValidateFunction>();

beforeAll(async () => {
  const res = await request(stack.service.url).get('/openapi.json');
  expect(res.status).toBe(200);
  doc = res.body as Doc;
  ajv = new Ajv({ strict: false, allErrors: true, formats: { 'date-time': true } });
  ajv.addSchema(doc as object, 'openapi.json');
}, 60_000);

const pointer = (...parts: string[]): string => parts.map((p) => p.replace(/~/g, '~0').replace(/\//g, '~1')).join('/');

/**
 * Checks one answer against the document: `path` is the documented template, `method` the documented operation (a
 * 405 to another method is checked against the operation of its path). Throws for an undocumented status.
 */
function conforms(res: Response, method: string, path: string): Response {
  const op = doc.paths[path]?.[method.toLowerCase()];
  if (!op) throw new Error(`${method} ${path} is not in the document`);
  const status = String(res.status);
  const documented = op.responses[status];
  if (!documented) throw new Error(`${method} ${path} answered ${status}, which the document does not list (it lists ${Object.keys(op.responses).join(', ')}): ${res.text.slice(0, 200)}`);
  seen.add(`${method} ${path} ${status}`);
  for (const [name, h] of Object.entries(documented.headers ?? {})) {
    const value = res.headers[name.toLowerCase()] as string | undefined;
    if (h.required) expect({ header: name, present: value !== undefined }).toEqual({ header: name, present: true });
    if (value !== undefined && h.schema?.pattern) expect(value).toMatch(new RegExp(h.schema.pattern));
  }
  const media = Object.keys(documented.content ?? {});
  if (media.length === 0) {
    expect(res.text ?? '').toBe('');
    return res;
  }
  const type = String(res.headers['content-type'] ?? '').split(';')[0]?.trim();
  expect(media).toContain(type);
  const at = `openapi.json#/${pointer('paths', path, method.toLowerCase(), 'responses', status, 'content', type ?? '', 'schema')}`;
  let validate = compiled.get(at);
  if (!validate) {
    validate = ajv.compile({ $ref: at });
    compiled.set(at, validate);
  }
  const body: unknown = type === 'application/json' ? res.body : res.text;
  if (!validate(body)) throw new Error(`${method} ${path} ${status}: the body does not match the document: ${ajv.errorsText(validate.errors)}: ${res.text.slice(0, 300)}`);
  return res;
}

const gitlab = (t: Test) => t.set('Authorization', API_TOKEN);
const admin = (t: Test) => t.set('Authorization', `Bearer ${ADMIN}`);
const basic = (t: Test) => t.auth('oncall', ADMIN);

describe('the document', () => {
  it('is a valid OpenAPI 3.1 document', async () => {
    const validator = new Validator();
    const result = await validator.validate(doc as unknown as Parameters<Validator['validate']>[0]);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
    expect(validator.version).toBe('3.1');
  });

  it('the validator is not a rubber stamp: a response without description is refused', async () => {
    const broken = structuredClone(doc) as Doc;
    delete (broken.paths['/-/liveness']?.['get']?.responses['200'] as { description?: string }).description;
    expect((await new Validator().validate(broken as unknown as Parameters<Validator['validate']>[0])).valid).toBe(false);
  });

  it('embeds each file of schemas/ as it is, and every request and answer schema of the API is one of them', () => {
    const schemas = (doc as unknown as { components: { schemas: Record<string, unknown> } }).components.schemas;
    for (const [name, file] of Object.entries(EMBEDDED_SCHEMAS)) expect(schemas[name]).toEqual(JSON.parse(readFileSync(schemaPath(file), 'utf8')));
    const text = JSON.stringify(doc.paths);
    for (const name of Object.keys(EMBEDDED_SCHEMAS)) expect(text).toContain(`"#/components/schemas/${name}"`);
    // The files it embeds are all the request and answer schemas (instances.schema.json is a configuration file).
    const files = readdirSync(schemaPath('.')).filter((f) => f.endsWith('.json') && f !== 'instances.schema.json');
    expect(Object.values(EMBEDDED_SCHEMAS).sort()).toEqual(files.sort());
  });

  it('is served without a credential, as JSON; 405 for other methods', async () => {
    conforms(await request(stack.service.url).get('/openapi.json'), 'GET', '/openapi.json');
    conforms(await request(stack.service.url).post('/openapi.json'), 'GET', '/openapi.json');
  });
});

describe('GitLab endpoints', () => {
  it('GET /v1/revocable_token_types: 200, 401, 405, 429', async () => {
    conforms(await gitlab(request(stack.service.url).get('/v1/revocable_token_types')), 'GET', '/v1/revocable_token_types');
    conforms(await request(stack.service.url).get('/v1/revocable_token_types'), 'GET', '/v1/revocable_token_types');
    conforms(await gitlab(request(stack.service.url).delete('/v1/revocable_token_types')), 'GET', '/v1/revocable_token_types');
    conforms(await gitlab(request(limited.service.url).get('/v1/revocable_token_types')), 'GET', '/v1/revocable_token_types');
    const over = conforms(await gitlab(request(limited.service.url).get('/v1/revocable_token_types')), 'GET', '/v1/revocable_token_types');
    expect(over.status).toBe(429);
  });

  it('POST /v1/revoke_tokens: 204, every 400 code, 401, 405, 413, 415', async () => {
    const post = () => gitlab(request(stack.service.url).post('/v1/revoke_tokens'));
    const check = (res: Response) => conforms(res, 'POST', '/v1/revoke_tokens');
    expect(check(await post().send([item(stack.gitlab.createToken('personal_access_token'))])).status).toBe(204);
    expect(check(await post().send([])).status).toBe(204);
    const codes: string[] = [];
    const bad = async (t: Test) => {
      const res = check(await t);
      expect(res.status).toBe(400);
      codes.push(res.body.error);
    };
    await bad(post().set('Content-Type', 'application/json').send('[{"type":'));
    // The bytes as they are: superagent would JSON-encode a Buffer under a JSON content type.
    await bad(post().set('Content-Type', 'application/json').serialize((bytes: unknown) => bytes as string).send(Buffer.concat([Buffer.from('[{"type":"gitleaks_rule_id_gitlab_personal_access_token","token":"glpat-'), Buffer.from([0xff]), Buffer.from('"}]')])));
    await bad(post().send([{ type: 1, token: 'x' }]));
    // Partial accept: the supported item is queued, the unsupported one named.
    const supported = stack.gitlab.createToken('personal_access_token');
    await bad(post().send([item(supported), item('xoxq-not-a-type-we-have', 'gitleaks_rule_id_nobody_revokes_this')]));
    expect(codes).toEqual(['invalid_json', 'invalid_encoding', 'invalid_request', 'unsupported_token_type']);
    await eventually(() => stack.gitlab.stateOf(supported) === 'revoked', 'the supported item of a partial accept revoked');
    expect(check(await request(stack.service.url).post('/v1/revoke_tokens').send([])).status).toBe(401);
    expect(check(await gitlab(request(stack.service.url).get('/v1/revoke_tokens'))).status).toBe(405);
    expect(check(await post().set('Content-Type', 'application/json').send(`[${' '.repeat(MAX_BODY)}]`)).status).toBe(413);
    expect(check(await post().set('Content-Type', 'text/plain').send('[]')).status).toBe(415);
  });

  it('POST /v1/revoke_tokens: 429 with its headers', async () => {
    const post = () => gitlab(request(limited.service.url).post('/v1/revoke_tokens')).send([]);
    expect(conforms(await post(), 'POST', '/v1/revoke_tokens').status).toBe(204);
    expect(conforms(await post(), 'POST', '/v1/revoke_tokens').status).toBe(429);
  });

  it('POST /v1/revoke_tokens: 503 with Retry-After when Redis is gone; readiness 503', async () => {
    await doomed.redis.kill();
    const res = conforms(await gitlab(request(doomed.service.url).post('/v1/revoke_tokens')).send([item(stack.gitlab.createToken('personal_access_token'))]), 'POST', '/v1/revoke_tokens');
    expect(res.status).toBe(503);
    expect(conforms(await request(doomed.service.url).get('/-/readiness'), 'GET', '/-/readiness').status).toBe(503);
    // Back, so that the service can stop cleanly.
    await doomed.redis.start();
  });
});

describe('health and metrics', () => {
  it('liveness, readiness, metrics (METRICS_TOKEN set: 401 without it)', async () => {
    conforms(await request(stack.service.url).get('/-/liveness'), 'GET', '/-/liveness');
    conforms(await request(stack.service.url).post('/-/liveness'), 'GET', '/-/liveness');
    conforms(await request(stack.service.url).get('/-/readiness'), 'GET', '/-/readiness');
    conforms(await request(stack.service.url).put('/-/readiness'), 'GET', '/-/readiness');
    expect(conforms(await request(stack.service.url).get('/metrics').set('Authorization', `Bearer ${METRICS}`), 'GET', '/metrics').status).toBe(200);
    expect(conforms(await request(stack.service.url).get('/metrics'), 'GET', '/metrics').status).toBe(401);
    conforms(await request(stack.service.url).post('/metrics').set('Authorization', `Bearer ${METRICS}`), 'GET', '/metrics');
  });
});

describe('admin API', () => {
  let failedToken: string;
  let revokedToken: string;

  beforeAll(async () => {
    failedToken = stack.gitlab.createToken('deploy_token');
    revokedToken = stack.gitlab.createToken('personal_access_token');
    await gitlab(request(stack.service.url).post('/v1/revoke_tokens')).send([item(revokedToken)]).expect(204);
    await eventually(() => stack.gitlab.stateOf(revokedToken) === 'revoked', 'a token revoked');
    stack.gitlab.faults.failUntilCleared(400, { method: 'DELETE', body: { message: { error: 'Cannot revoke' } } });
    await gitlab(request(stack.service.url).post('/v1/revoke_tokens')).send([item(failedToken, DEPLOY)]).expect(204);
    const queue = inspectQueue(stack.redis.url);
    await eventually(async () => (await failedReasonOf(stack.queue, failedToken)) !== undefined, 'a token in the failed set');
    await queue.close();
  });

  const fp = (t: string, n = 12) => fingerprint(t).slice(0, n);

  it('status, failed, tokens, audit: 200, 400, 401, 404, 405', async () => {
    const c = (res: Response, path: string) => conforms(res, 'GET', path);
    c(await admin(request(stack.service.url).get('/admin/status')), '/admin/status');
    c(await request(stack.service.url).get('/admin/status'), '/admin/status');
    c(await admin(request(stack.service.url).delete('/admin/status')), '/admin/status');
    expect(c(await basic(request(stack.service.url).get('/admin/failed?reason=http_400')), '/admin/failed').body.failed).toHaveLength(1);
    expect(c(await admin(request(stack.service.url).get('/admin/failed?since=yesterday-ish')), '/admin/failed').status).toBe(400);
    c(await request(stack.service.url).get('/admin/failed'), '/admin/failed');
    c(await admin(request(stack.service.url).post('/admin/failed')), '/admin/failed');
    expect(c(await admin(request(stack.service.url).get(`/admin/tokens/${fp(failedToken)}`)), '/admin/tokens/{fingerprint}').body.job.state).toBe('failed');
    c(await admin(request(stack.service.url).get(`/admin/tokens/${fingerprint(revokedToken)}`)), '/admin/tokens/{fingerprint}');
    expect(c(await admin(request(stack.service.url).get('/admin/tokens/not-hex!')), '/admin/tokens/{fingerprint}').status).toBe(400);
    expect(c(await admin(request(stack.service.url).get('/admin/tokens/0000000000000000')), '/admin/tokens/{fingerprint}').status).toBe(404);
    c(await request(stack.service.url).get(`/admin/tokens/${fp(failedToken)}`), '/admin/tokens/{fingerprint}');
    c(await admin(request(stack.service.url).put(`/admin/tokens/${fp(failedToken)}`)), '/admin/tokens/{fingerprint}');
    expect(c(await admin(request(stack.service.url).get('/admin/audit?limit=5')), '/admin/audit').status).toBe(200);
    expect(c(await admin(request(stack.service.url).get('/admin/audit?limit=0')), '/admin/audit').status).toBe(400);
    expect(c(await admin(request(stack.service.url).get('/admin/audit?fingerprint=0000000000000000')), '/admin/audit').status).toBe(404);
    c(await request(stack.service.url).get('/admin/audit'), '/admin/audit');
    c(await admin(request(stack.service.url).post('/admin/audit')), '/admin/audit');
  });

  it('replay: 200 (one fingerprint), 202 (all) and its handle, 400, 401, 404, 405, 409, 415', async () => {
    const post = (body: unknown) => admin(request(stack.service.url).post('/admin/replay')).send(body as object);
    const c = (res: Response) => conforms(res, 'POST', '/admin/replay');
    expect(c(await post({ fingerprint: fp(failedToken) })).status).toBe(200);
    await eventually(async () => (await admin(request(stack.service.url).get(`/admin/tokens/${fp(failedToken)}`))).body.job?.state === 'failed', 'failed again');
    const started = c(await post({ all: true }));
    expect(started.status).toBe(202);
    const location = String(started.headers['location']);
    await eventually(async () => conforms(await admin(request(stack.service.url).get(location)), 'GET', '/admin/replays/{id}').body.replay.state === 'done', 'the replay done');
    expect(conforms(await admin(request(stack.service.url).get('/admin/replays/00000000-0000-4000-8000-000000000000')), 'GET', '/admin/replays/{id}').status).toBe(404);
    conforms(await request(stack.service.url).get(location), 'GET', '/admin/replays/{id}');
    conforms(await admin(request(stack.service.url).delete(location)), 'GET', '/admin/replays/{id}');
    expect(c(await post({ all: false })).status).toBe(400);
    expect(c(await admin(request(stack.service.url).post('/admin/replay')).set('Content-Type', 'application/json').send('{')).status).toBe(400);
    expect(c(await post({ fingerprint: '0000000000000000' })).status).toBe(404);
    expect(c(await post({ fingerprint: fp(revokedToken) })).status).toBe(409);
    expect(c(await admin(request(stack.service.url).post('/admin/replay')).set('Content-Type', 'text/plain').send('all')).status).toBe(415);
    expect(c(await request(stack.service.url).post('/admin/replay').send({ all: true })).status).toBe(401);
    expect(c(await admin(request(stack.service.url).get('/admin/replay'))).status).toBe(405);
    await eventually(async () => (await admin(request(stack.service.url).get(`/admin/tokens/${fp(failedToken)}`))).body.job?.state === 'failed', 'failed again');
  });

  it('resolve, pause, resume: 200, 400, 401, 404, 405, 409, 415', async () => {
    const path = '/admin/tokens/{fingerprint}/resolve';
    const post = (f: string, body: unknown) => admin(request(stack.service.url).post(`/admin/tokens/${f}/resolve`)).send(body as object);
    const c = (res: Response) => conforms(res, 'POST', path);
    expect(c(await post(fp(failedToken), { reason: '' })).status).toBe(400);
    expect(c(await post('0000000000000000', { reason: 'by hand' })).status).toBe(404);
    expect(c(await post(fp(revokedToken), { reason: 'by hand' })).status).toBe(409);
    expect(c(await admin(request(stack.service.url).post(`/admin/tokens/${fp(failedToken)}/resolve`)).set('Content-Type', 'text/plain').send('x')).status).toBe(415);
    expect(c(await request(stack.service.url).post(`/admin/tokens/${fp(failedToken)}/resolve`).send({ reason: 'x' })).status).toBe(401);
    expect(c(await admin(request(stack.service.url).get(`/admin/tokens/${fp(failedToken)}/resolve`))).status).toBe(405);
    expect(c(await post(fp(failedToken), { reason: 'revoked by hand, SEC-1' })).body.state).toBe('resolved');
    for (const [p, paused] of [['/admin/pause', true], ['/admin/resume', false]] as const) {
      expect(conforms(await admin(request(stack.service.url).post(p)), 'POST', p).body).toEqual({ paused });
      conforms(await request(stack.service.url).post(p), 'POST', p);
      conforms(await admin(request(stack.service.url).get(p)), 'POST', p);
    }
  });
});

describe('coverage', () => {
  it('fails for an undocumented status', () => {
    const fake = { status: 418, text: '', headers: {}, body: {} } as unknown as Response;
    expect(() => conforms(fake, 'GET', '/-/liveness')).toThrow(/answered 418, which the document does not list/);
  });

  it('every documented status was answered by the real service (bar those named in NOT_PROVOKED)', () => {
    const documented = Object.entries(doc.paths).flatMap(([path, ops]) => Object.entries(ops).flatMap(([method, op]) => Object.keys(op.responses).map((s) => `${method.toUpperCase()} ${path} ${s}`)));
    const missing = documented.filter((d) => !seen.has(d) && !(d in NOT_PROVOKED));
    expect(missing).toEqual([]);
    for (const d of Object.keys(NOT_PROVOKED)) expect(documented).toContain(d);
  });
});
