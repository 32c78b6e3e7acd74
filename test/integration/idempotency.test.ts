import request from 'supertest';
import { startGitLabSimulator, type GitLabSimulator } from '../../simulator/index.js';
import { startTestRedis, type TestRedis } from '../support/redis.js';
import { API_TOKEN, eventually, item, startTestService, type TestService } from '../support/service.js';

let redis: TestRedis;
let sim: GitLabSimulator;
let a: TestService;
let b: TestService;

beforeAll(async () => {
  redis = await startTestRedis();
  sim = await startGitLabSimulator();
  // Two replicas on one Redis, each with API and worker.
  a = await startTestService(redis.url, sim.url, sim.adminToken);
  b = await startTestService(redis.url, sim.url, sim.adminToken);
});
afterAll(async () => {
  await a?.stop();
  await b?.stop();
  await sim?.stop();
  await redis?.stop();
});

const post = (svc: TestService, body: unknown) => request(svc.url).post('/v1/revoke_tokens').set('Authorization', API_TOKEN).send(body as object);

/** Calls that revoke, at the simulator, for one token: the idempotency promise is exactly one. */
const revokeCalls = (token: string) => sim.calls().filter((c) => c.method === 'DELETE' && c.token === token).length;
const settled = async () => new Promise((r) => setTimeout(r, 500));

describe('idempotency', () => {
  it('revokes a token listed twice in one batch once', async () => {
    const token = sim.createToken('personal_access_token');
    expect((await post(a, [item(token), item(token, 'gitleaks_rule_id_gitlab_personal_access_token_routable')])).status).toBe(204);
    await eventually(() => sim.stateOf(token) === 'revoked', 'revoked');
    await settled();
    expect(revokeCalls(token)).toBe(1);
  });

  it('revokes once when GitLab resends the whole batch after the revocation', async () => {
    const tokens = [sim.createToken('personal_access_token'), sim.createToken('runner_authentication_token')];
    const batch = [item(tokens[0] ?? ''), item(tokens[1] ?? '', 'gitleaks_rule_id_gitlab_runner_auth_token')];
    expect((await post(a, batch)).status).toBe(204);
    await eventually(() => sim.revokedTokens().filter((r) => tokens.includes(r.token)).length === 2, 'both revoked');
    for (const svc of [a, b, a]) expect((await post(svc, batch)).status).toBe(204);
    await settled();
    for (const t of tokens) expect(revokeCalls(t)).toBe(1);
    const fannedOut = [...a.logs.records(), ...b.logs.records()].filter((r) => r['msg'] === 'batch fanned out' && r['known'] === 2 && r['queued'] === 0);
    expect(fannedOut.length).toBeGreaterThan(0);
  });

  it('revokes once when six concurrent requests to two replicas carry the same token', async () => {
    sim.setLatency(50);
    const token = sim.createToken('personal_access_token');
    const answers = await Promise.all([a, b, a, b, a, b].map((svc) => post(svc, [item(token)])));
    expect(answers.map((r) => r.status)).toEqual([204, 204, 204, 204, 204, 204]);
    await eventually(() => sim.stateOf(token) === 'revoked', 'revoked');
    await settled();
    sim.setLatency(0);
    expect(revokeCalls(token)).toBe(1);
    expect(sim.revokedTokens().find((r) => r.token === token)?.attempts).toBe(1);
  });

  it('makes no GitLab call at all for a resend within the outcome window', async () => {
    const token = sim.createToken('personal_access_token');
    await post(b, [item(token)]);
    await eventually(() => sim.stateOf(token) === 'revoked', 'revoked');
    const before = sim.calls().filter((c) => c.token === token).length;
    await post(a, [item(token)]);
    await settled();
    expect(sim.calls().filter((c) => c.token === token).length).toBe(before);
  });
});
