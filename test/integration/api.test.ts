import request from 'supertest';
import { API_TOKEN, eventually, item } from '../support/service.js';
import { useStack } from '../support/stack.js';

const stack = useStack();

const post = (body: unknown) => request(stack.service.url).post('/v1/revoke_tokens').set('Authorization', API_TOKEN).send(body as object);

describe('GET /v1/revocable_token_types', () => {
  it('answers 200 with every supported type, sorted and unique', async () => {
    const res = await request(stack.service.url).get('/v1/revocable_token_types').set('Authorization', API_TOKEN);
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/application\/json/);
    const types = res.body.types as string[];
    expect(types).toEqual([...new Set(types)].sort());
    expect(types).toEqual(expect.arrayContaining(['gitleaks_rule_id_gitlab_personal_access_token', 'gitleaks_rule_id_gitlab_runner_auth_token']));
    expect(res.headers['ratelimit-limit']).toBe('6000');
  });

  it('answers 401 without the pre-shared token', async () => {
    const res = await request(stack.service.url).get('/v1/revocable_token_types');
    expect(res.status).toBe(401);
    expect(res.body).toEqual({ error: 'unauthorized', message: expect.any(String) });
  });

  it('answers 405 with Allow for other methods', async () => {
    const res = await request(stack.service.url).put('/v1/revocable_token_types').set('Authorization', API_TOKEN);
    expect(res.status).toBe(405);
    expect(res.headers['allow']).toBe('GET, HEAD');
    expect(res.body.error).toBe('method_not_allowed');
  });
});

describe('POST /v1/revoke_tokens', () => {
  it('answers 204 and the token ends revoked at GitLab (personal access token)', async () => {
    const token = stack.gitlab.createToken('personal_access_token');
    const res = await post([item(token)]);
    expect(res.status).toBe(204);
    expect(res.text).toBe('');
    await eventually(() => stack.gitlab.stateOf(token) === 'revoked', 'PAT revoked at the simulator');
  });

  it('answers 204 and the runner token ends reset at GitLab', async () => {
    const token = stack.gitlab.createToken('runner_authentication_token');
    expect((await post([item(token, 'gitleaks_rule_id_gitlab_runner_auth_token')])).status).toBe(204);
    await eventually(() => stack.gitlab.stateOf(token) === 'reset', 'runner token reset at the simulator');
  });

  it('accepts `url` in place of `location`, Bearer credentials and extra keys', async () => {
    const token = stack.gitlab.createToken('personal_access_token');
    const res = await request(stack.service.url)
      .post('/v1/revoke_tokens')
      .set('Authorization', `Bearer ${API_TOKEN}`)
      .send([{ type: 'gitleaks_rule_id_gitlab_personal_access_token', token, url: 'https://x/y', vulnerability: { id: 7, nested: { deep: [1, 2] } } }]);
    expect(res.status).toBe(204);
    await eventually(() => stack.gitlab.stateOf(token) === 'revoked', 'revoked');
  });

  it('answers 204 to an empty array', async () => {
    expect((await post([])).status).toBe(204);
  });

  it('enqueues the supported items of a mixed batch, then answers 400 naming the unsupported ones', async () => {
    const good = stack.gitlab.createToken('personal_access_token');
    const res = await post([item('GR1348941abcdefghijklmnopqrst', 'gitleaks_rule_id_gitlab_runner_registration_token'), item(good), item('AKIAXXXXXXXXXXXXXXXX', 'gitleaks_rule_id_aws')]);
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('unsupported_token_type');
    expect(res.body.details).toEqual([
      expect.objectContaining({ index: 0, type: 'gitleaks_rule_id_gitlab_runner_registration_token' }),
      expect.objectContaining({ index: 2, type: 'gitleaks_rule_id_aws' }),
    ]);
    expect(JSON.stringify(res.body)).not.toContain('GR1348941abcdefghijklmnopqrst');
    await eventually(() => stack.gitlab.stateOf(good) === 'revoked', 'the supported token revoked despite the 400');
  });

  it('answers 404 as JSON for unknown paths', async () => {
    const res = await request(stack.service.url).get('/v2/nothing');
    expect(res.status).toBe(404);
    expect(res.body.error).toBe('not_found');
  });

  it.each(['get', 'put', 'delete', 'patch'] as const)('answers 405 with Allow: POST to %s', async (method) => {
    const res = await request(stack.service.url)[method]('/v1/revoke_tokens').set('Authorization', API_TOKEN);
    expect(res.status).toBe(405);
    expect(res.headers['allow']).toBe('POST');
  });

  it('carries the standard RateLimit headers', async () => {
    const res = await post([]);
    expect(res.headers['ratelimit-limit']).toBe('1200');
    expect(Number(res.headers['ratelimit-remaining'])).toBeLessThan(1200);
    expect(res.headers['ratelimit-reset']).toBeDefined();
  });
});

describe('health', () => {
  it('answers liveness and readiness with Redis and the worker up', async () => {
    expect((await request(stack.service.url).get('/-/liveness')).status).toBe(200);
    const ready = await request(stack.service.url).get('/-/readiness');
    expect(ready.status).toBe(200);
    expect(ready.body).toEqual({ status: 'ready', checks: { redis: 'ok', worker: 'running' } });
  });
});

describe('request logs', () => {
  it('writes one line per request with route and status, and never the credential', async () => {
    await post([]);
    const lines = stack.service.logs.records().filter((r) => r['msg'] === 'request' && r['route'] === '/v1/revoke_tokens');
    expect(lines.length).toBeGreaterThan(0);
    expect(lines.at(-1)).toMatchObject({ method: 'POST', status: 204 });
    expect(stack.service.logs.lines.join('\n')).not.toContain(API_TOKEN);
  });
});
