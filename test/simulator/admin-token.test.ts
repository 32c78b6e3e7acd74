// Admin Token API: identify and revoke answers, per kind, per mode and per credential.
import { type GitLabSimulator, startGitLabSimulator, type TokenKind } from '../../simulator/index.js';
import { adminToken, call } from './client.js';

const BAD_TOKEN = { error: 'invalid_token', error_description: 'Bad Access Token.' };
const GRAPE_404 = { error: '404 Not Found' };

describe('GitLab simulator', () => {
  let sim: GitLabSimulator;
  beforeAll(async () => {
    sim = await startGitLabSimulator();
  });
  afterAll(() => sim.stop());
  beforeEach(() => sim.reset());

  describe('POST /api/v4/admin/token (identify)', () => {
    it('answers 200 with the PAT record when the token exists', async () => {
      const token = sim.createToken('personal_access_token', { scopes: ['read_api'], userId: 42, expiresAt: '2999-01-01' });
      const res = await adminToken(sim, 'POST', token);
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ revoked: false, active: true, scopes: ['read_api'], user_id: 42, expires_at: '2999-01-01' });
      expect(res.body).toEqual(expect.objectContaining({ id: expect.any(Number), name: expect.any(String), created_at: expect.any(String), last_used_at: null }));
    });

    it('answers 200 with revoked: true, active: false for a revoked PAT', async () => {
      const token = sim.createToken('personal_access_token', { revoked: true });
      const res = await adminToken(sim, 'POST', token);
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ revoked: true, active: false });
    });

    it('answers 200 with the runner entity for a runner authentication token', async () => {
      const token = sim.createToken('runner_authentication_token');
      const res = await adminToken(sim, 'POST', token);
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ active: true, paused: false, runner_type: 'instance_type' });
      expect(res.body).toHaveProperty('description');
    });

    it('answers 404 {"message":{"error":"Not found"}} when the prefix is known but the token does not exist', async () => {
      const res = await adminToken(sim, 'POST', 'glpat-abcdefghij0123456789');
      expect(res).toMatchObject({ status: 404, body: { message: { error: 'Not found' } } });
    });

    it.each(['ghp_abcdefghij0123456789abcdefghij012345', 'GR1348941abcdefghij0123456789', 'glsoat-abcdefghij0123456789'])(
      'answers 422 Token type not supported for %s',
      async (token) => {
        const res = await adminToken(sim, 'POST', token);
        expect(res).toMatchObject({ status: 422, body: { message: 'Token type not supported.' } });
      },
    );

    it('answers 400 token is missing when the JSON body has no token', async () => {
      const res = await call(sim, 'POST', '/api/v4/admin/token', { token: sim.adminToken, json: {} });
      expect(res).toMatchObject({ status: 400, body: { error: 'token is missing' } });
    });

    it('answers 400 token is missing when a JSON body is sent without Content-Type: application/json', async () => {
      const res = await fetch(`${sim.url}/api/v4/admin/token`, { method: 'DELETE', headers: { 'PRIVATE-TOKEN': sim.adminToken }, body: '{"token":"glpat-abcdefghij0123456789"}' });
      expect(res.status).toBe(400);
      expect(await res.json()).toEqual({ error: 'token is missing' });
    });

    it('accepts Authorization: Bearer as well as PRIVATE-TOKEN', async () => {
      const token = sim.createToken('deploy_token');
      const res = await call(sim, 'POST', '/api/v4/admin/token', { token: sim.adminToken, bearer: true, json: { token } });
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ revoked: false, expired: false });
    });
  });

  describe('admin credential', () => {
    it('answers 401 {"message":"401 Unauthorized"} when no credential is sent', async () => {
      const res = await call(sim, 'POST', '/api/v4/admin/token', { json: { token: 'glpat-abcdefghij0123456789' } });
      expect(res).toMatchObject({ status: 401, body: { message: '401 Unauthorized' } });
    });

    it.each([
      ['unknown', () => 'glpat-zzzzzzzzzzzzzzzzzzzz', BAD_TOKEN],
      ['revoked', () => (sim.setAdminTokenState('revoked'), sim.adminToken), { error: 'invalid_token', error_description: 'Token was revoked. You have to re-authorize from the user.' }],
      ['expired', () => (sim.setAdminTokenState('expired'), sim.adminToken), { error: 'invalid_token', error_description: 'Token is expired. You can either do re-authorization or token refresh.' }],
      ['not a PAT', () => sim.createToken('deploy_token'), BAD_TOKEN],
    ])('answers 401 invalid_token when the credential is %s', async (_what, credential, body) => {
      const res = await adminToken(sim, 'DELETE', 'glpat-abcdefghij0123456789', credential());
      expect(res).toMatchObject({ status: 401, body });
    });

    it('works again once the admin credential is made valid', async () => {
      sim.setAdminTokenState('revoked');
      expect((await adminToken(sim, 'POST', 'glpat-abcdefghij0123456789')).status).toBe(401);
      sim.setAdminTokenState('valid');
      expect((await adminToken(sim, 'POST', 'glpat-abcdefghij0123456789')).status).toBe(404);
    });

    it('answers 403 {"message":"403 Forbidden"} for a non-admin user with api scope', async () => {
      const user = sim.createToken('personal_access_token', { scopes: ['api'] });
      const res = await adminToken(sim, 'DELETE', 'glpat-abcdefghij0123456789', user);
      expect(res).toMatchObject({ status: 403, body: { message: '403 Forbidden' } });
    });

    it('answers 403 insufficient_scope for an admin token without the api scope', async () => {
      const weak = sim.createToken('personal_access_token', { admin: true, scopes: ['read_user'] });
      const res = await adminToken(sim, 'POST', 'glpat-abcdefghij0123456789', weak);
      expect(res.status).toBe(403);
      expect(res.body).toEqual({
        error: 'insufficient_scope',
        error_description: 'The request requires higher privileges than provided by the access token.',
        scope: 'api read_api',
      });
    });
  });

  describe('DELETE /api/v4/admin/token', () => {
    it.each<[TokenKind, 'revoked' | 'reset']>([
      ['personal_access_token', 'revoked'],
      ['deploy_token', 'revoked'],
      ['cluster_agent_token', 'revoked'],
      ['pipeline_trigger_token', 'revoked'],
      ['feed_token', 'reset'],
      ['runner_authentication_token', 'reset'],
      ['oauth_application_secret', 'reset'],
      ['incoming_email_token', 'reset'],
      ['feature_flags_client_token', 'reset'],
    ])('answers 204 and leaves a %s %s', async (kind, state) => {
      const token = sim.createToken(kind);
      const res = await adminToken(sim, 'DELETE', token);
      expect(res.status).toBe(204);
      expect(res.text).toBe('');
      expect(sim.stateOf(token)).toBe(state);
      expect(sim.revokedTokens()).toEqual([expect.objectContaining({ token, kind, outcome: state, by: 'admin', times: 1, attempts: 1 })]);
    });

    it.each(['project', 'group', 'impersonation'] as const)('revokes a %s access token', async (subkind) => {
      const token = sim.createToken('personal_access_token', { subkind });
      expect((await adminToken(sim, 'DELETE', token)).status).toBe(204);
      expect(sim.stateOf(token)).toBe('revoked');
    });

    it('makes a reset token unknown: identify then answers 404 and the successor is active', async () => {
      const token = sim.createToken('feed_token');
      await adminToken(sim, 'DELETE', token);
      expect((await adminToken(sim, 'POST', token)).status).toBe(404);
      const successor = sim.revokedTokens()[0]?.replacedBy;
      expect(successor).toMatch(/^glft-/);
      expect(sim.stateOf(successor ?? '')).toBe('active');
    });

    it('answers 400 {"message":{"error":...}} when revoking an already-revoked token, and counts the attempt', async () => {
      const token = sim.createToken('personal_access_token');
      expect((await adminToken(sim, 'DELETE', token)).status).toBe(204);
      const again = await adminToken(sim, 'DELETE', token);
      expect(again.status).toBe(400);
      expect(again.body).toEqual({ message: { error: expect.any(String) } });
      expect(sim.revokedTokens()).toEqual([expect.objectContaining({ token, times: 1, attempts: 2 })]);
    });

    it('answers 400 for a CI job token, which can only be identified', async () => {
      const token = sim.createToken('ci_job_token');
      expect((await adminToken(sim, 'POST', token)).status).toBe(200);
      const res = await adminToken(sim, 'DELETE', token);
      expect(res.status).toBe(400);
      expect(res.body).toEqual({ message: { error: expect.any(String) } });
      expect(sim.stateOf(token)).toBe('active');
    });

    it('answers 422 for a runner registration token and 404 for an unknown runner token', async () => {
      expect(await adminToken(sim, 'DELETE', 'GR1348941abcdefghij0123456789')).toMatchObject({ status: 422, body: { message: 'Token type not supported.' } });
      expect(await adminToken(sim, 'DELETE', 'glrt-abcdefghij0123456789')).toMatchObject({ status: 404, body: { message: { error: 'Not found' } } });
    });

    it('deletes the runner instead when started with runnerAdminAction: delete', async () => {
      const other = await startGitLabSimulator({ runnerAdminAction: 'delete' });
      try {
        const token = other.createToken('runner_authentication_token');
        expect((await adminToken(other, 'DELETE', token)).status).toBe(204);
        expect(other.stateOf(token)).toBe('deleted');
      } finally {
        await other.stop();
      }
    });
  });

  describe('admin API modes', () => {
    it("answers 404 'api_admin_token_revoke' feature flag is disabled to DELETE but still identifies when flag_disabled", async () => {
      sim.setAdminApiMode('flag_disabled');
      const token = sim.createToken('personal_access_token');
      expect((await adminToken(sim, 'POST', token)).status).toBe(200);
      const res = await adminToken(sim, 'DELETE', token);
      expect(res).toMatchObject({ status: 404, body: { message: "'api_admin_token_revoke' feature flag is disabled" } });
      expect(sim.stateOf(token)).toBe('active');
    });

    it.each(['POST', 'DELETE'] as const)('answers Grape 404 to %s when the API is absent (older GitLab)', async (method) => {
      sim.setAdminApiMode('absent');
      const token = sim.createToken('personal_access_token');
      expect(await adminToken(sim, method, token)).toMatchObject({ status: 404, body: GRAPE_404 });
    });

    it('answers Grape 404 to an unknown path', async () => {
      expect(await call(sim, 'GET', '/api/v4/nope', { token: sim.adminToken })).toMatchObject({ status: 404, body: GRAPE_404 });
    });
  });
});
