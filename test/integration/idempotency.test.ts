import request from 'supertest';
import { API_TOKEN, eventually, item, type TestService } from '../support/service.js';
import { useStack } from '../support/stack.js';

// Two replicas on one Redis, each with API and worker.
const stack = useStack({ replicas: 2 });

const post = (svc: TestService, body: unknown) => request(svc.url).post('/v1/revoke_tokens').set('Authorization', API_TOKEN).send(body as object);

/** Calls that revoke, at the simulator, for one token: the idempotency promise is exactly one. */
const revokeCalls = (token: string) => stack.gitlab.calls().filter((c) => c.method === 'DELETE' && c.token === token).length;
const settled = async () => new Promise((r) => setTimeout(r, 500));

describe('idempotency', () => {
  it('revokes a token listed twice in one batch once', async () => {
    const token = stack.gitlab.createToken('personal_access_token');
    expect((await post(stack.replica(0), [item(token), item(token, 'gitleaks_rule_id_gitlab_personal_access_token_routable')])).status).toBe(204);
    await eventually(() => stack.gitlab.stateOf(token) === 'revoked', 'revoked');
    await settled();
    expect(revokeCalls(token)).toBe(1);
  });

  it('revokes once when GitLab resends the whole batch after the revocation', async () => {
    const tokens = [stack.gitlab.createToken('personal_access_token'), stack.gitlab.createToken('runner_authentication_token')];
    const batch = [item(tokens[0] ?? ''), item(tokens[1] ?? '', 'gitleaks_rule_id_gitlab_runner_auth_token')];
    expect((await post(stack.replica(0), batch)).status).toBe(204);
    await eventually(() => stack.gitlab.revokedTokens().filter((r) => tokens.includes(r.token)).length === 2, 'both revoked');
    for (const svc of [stack.replica(0), stack.replica(1), stack.replica(0)]) expect((await post(svc, batch)).status).toBe(204);
    await settled();
    for (const t of tokens) expect(revokeCalls(t)).toBe(1);
    const fannedOut = [...stack.replica(0).logs.records(), ...stack.replica(1).logs.records()].filter((r) => r['msg'] === 'batch fanned out' && r['known'] === 2 && r['queued'] === 0);
    expect(fannedOut.length).toBeGreaterThan(0);
  });

  it('revokes once when six concurrent requests to two replicas carry the same token', async () => {
    stack.gitlab.setLatency(50);
    const token = stack.gitlab.createToken('personal_access_token');
    const answers = await Promise.all([0, 1, 0, 1, 0, 1].map((i) => post(stack.replica(i), [item(token)])));
    expect(answers.map((r) => r.status)).toEqual([204, 204, 204, 204, 204, 204]);
    await eventually(() => stack.gitlab.stateOf(token) === 'revoked', 'revoked');
    await settled();
    stack.gitlab.setLatency(0);
    expect(revokeCalls(token)).toBe(1);
    expect(stack.gitlab.revokedTokens().find((r) => r.token === token)?.attempts).toBe(1);
  });

  it('makes no GitLab call at all for a resend within the outcome window', async () => {
    const token = stack.gitlab.createToken('personal_access_token');
    await post(stack.replica(1), [item(token)]);
    await eventually(() => stack.gitlab.stateOf(token) === 'revoked', 'revoked');
    const before = stack.gitlab.calls().filter((c) => c.token === token).length;
    await post(stack.replica(0), [item(token)]);
    await settled();
    expect(stack.gitlab.calls().filter((c) => c.token === token).length).toBe(before);
  });
});
