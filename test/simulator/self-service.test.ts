// Credential-free endpoints: a leaked token acting on itself, runner endpoints and the group-owner revoke.
import { type GitLabSimulator, startGitLabSimulator } from '../../simulator/index.js';
import { call } from './client.js';

const REVOKED = { error: 'invalid_token', error_description: 'Token was revoked. You have to re-authorize from the user.' };

describe('GitLab simulator', () => {
  let sim: GitLabSimulator;
  beforeAll(async () => {
    sim = await startGitLabSimulator();
  });
  afterAll(() => sim.stop());
  beforeEach(() => sim.reset());

  describe('/api/v4/personal_access_tokens/self', () => {
    it('answers 200 with its own record to a token with any scope', async () => {
      const token = sim.createToken('personal_access_token', { scopes: ['read_repository'] });
      const res = await call(sim, 'GET', '/api/v4/personal_access_tokens/self', { token });
      expect(res).toMatchObject({ status: 200, body: { active: true, revoked: false, scopes: ['read_repository'] } });
    });

    it.each([
      ['revoked', { revoked: true }, REVOKED],
      ['expired', { expiresAt: '2000-01-01' }, { error: 'invalid_token', error_description: 'Token is expired. You can either do re-authorization or token refresh.' }],
    ])('answers 401 to GET when the token is %s', async (_what, seed, body) => {
      const token = sim.createToken('personal_access_token', seed);
      expect(await call(sim, 'GET', '/api/v4/personal_access_tokens/self', { token })).toMatchObject({ status: 401, body });
    });

    it('answers 401 Bad Access Token to GET for an unknown token', async () => {
      const res = await call(sim, 'GET', '/api/v4/personal_access_tokens/self', { token: 'glpat-abcdefghij0123456789' });
      expect(res).toMatchObject({ status: 401, body: { error: 'invalid_token', error_description: 'Bad Access Token.' } });
    });

    it.each(['personal', 'project', 'group'] as const)('answers 204 to DELETE and revokes a %s token; a second DELETE is 401', async (subkind) => {
      const token = sim.createToken('personal_access_token', { subkind, scopes: ['read_user'] });
      const res = await call(sim, 'DELETE', '/api/v4/personal_access_tokens/self', { token });
      expect(res.status).toBe(204);
      expect(sim.stateOf(token)).toBe('revoked');
      expect(await call(sim, 'DELETE', '/api/v4/personal_access_tokens/self', { token })).toMatchObject({ status: 401, body: REVOKED });
      expect(sim.revokedTokens()).toEqual([expect.objectContaining({ token, by: 'self', times: 1, attempts: 2 })]);
    });
  });

  describe('POST /api/v4/personal_access_tokens/self/rotate', () => {
    it('answers 200 with a new record including the new token and revokes the old one', async () => {
      const token = sim.createToken('personal_access_token', { scopes: ['api'] });
      const res = await call(sim, 'POST', '/api/v4/personal_access_tokens/self/rotate', { token, json: { expires_at: '2999-12-31' } });
      expect(res.status).toBe(200);
      const body = res.body as { token: string; expires_at: string; active: boolean };
      expect(body).toMatchObject({ active: true, expires_at: '2999-12-31', token: expect.stringMatching(/^glpat-/) });
      expect(sim.stateOf(token)).toBe('revoked');
      expect(sim.stateOf(body.token)).toBe('active');
    });

    it('defaults the new expiry to a week ahead and accepts the self_rotate scope', async () => {
      const token = sim.createToken('personal_access_token', { scopes: ['self_rotate'] });
      const res = await call(sim, 'POST', '/api/v4/personal_access_tokens/self/rotate', { token });
      expect(res.status).toBe(200);
      const expected = new Date(Date.now() + 7 * 86_400_000).toISOString().slice(0, 10);
      expect((res.body as { expires_at: string }).expires_at).toBe(expected);
    });

    it('answers 403 insufficient_scope without api or self_rotate', async () => {
      const token = sim.createToken('personal_access_token', { scopes: ['read_api'] });
      const res = await call(sim, 'POST', '/api/v4/personal_access_tokens/self/rotate', { token });
      expect(res).toMatchObject({ status: 403, body: { error: 'insufficient_scope', scope: 'api self_rotate' } });
    });

    it('answers 400 to an invalid expires_at', async () => {
      const token = sim.createToken('personal_access_token');
      expect((await call(sim, 'POST', '/api/v4/personal_access_tokens/self/rotate', { token, json: { expires_at: '31/12/2999' } })).status).toBe(400);
    });

    it('revokes the whole family and answers 401 when an already-rotated token is rotated again', async () => {
      const token = sim.createToken('personal_access_token');
      const first = await call(sim, 'POST', '/api/v4/personal_access_tokens/self/rotate', { token });
      const successor = (first.body as { token: string }).token;
      const second = await call(sim, 'POST', '/api/v4/personal_access_tokens/self/rotate', { token });
      expect(second).toMatchObject({ status: 401, body: REVOKED });
      expect(sim.stateOf(successor)).toBe('revoked');
    });

    it('keeps adminToken pointing at the current admin credential after the admin rotates itself', async () => {
      const before = sim.adminToken;
      const res = await call(sim, 'POST', '/api/v4/personal_access_tokens/self/rotate', { token: before });
      expect(sim.adminToken).toBe((res.body as { token: string }).token);
      expect((await call(sim, 'POST', '/api/v4/admin/token', { token: sim.adminToken, json: { token: before } })).status).toBe(200);
    });
  });

  describe('POST /api/v4/{projects,groups}/:id/access_tokens/self/rotate', () => {
    const PROJECT_ROTATE = '/api/v4/projects/42/access_tokens/self/rotate';
    const projectToken = (scopes = ['api']): string => sim.createToken('personal_access_token', { subkind: 'project', projectId: 42, groupId: 7, scopes });

    it('answers 200 with the new token, keeps the resource fields and honours expires_at', async () => {
      const token = projectToken();
      const res = await call(sim, 'POST', PROJECT_ROTATE, { token, json: { expires_at: '2999-12-31' } });
      expect(res).toMatchObject({ status: 200, body: { active: true, access_level: 40, expires_at: '2999-12-31', token: expect.stringMatching(/^glpat-/) } });
      const successor = (res.body as { token: string }).token;
      expect(sim.stateOf(token)).toBe('revoked');
      expect(sim.recordOf(successor)).toMatchObject({ subkind: 'project', projectId: 42, groupId: 7, scopes: ['api'], admin: false, revoked: false });
      expect((await call(sim, 'GET', '/api/v4/personal_access_tokens/self', { token: successor })).status).toBe(200);
    });

    it('rotates a group token on its group route with only the self_rotate scope', async () => {
      const token = sim.createToken('personal_access_token', { subkind: 'group', groupId: 7, scopes: ['self_rotate'] });
      const res = await call(sim, 'POST', '/api/v4/groups/7/access_tokens/self/rotate', { token });
      expect(res.status).toBe(200);
      expect(sim.stateOf((res.body as { token: string }).token)).toBe('active');
      expect(sim.stateOf(token)).toBe('revoked');
    });

    it.each(['personal', 'impersonation'] as const)('answers 405 to a %s token, which stays active', async (subkind) => {
      const token = sim.createToken('personal_access_token', { subkind, projectId: 42 });
      expect(await call(sim, 'POST', PROJECT_ROTATE, { token })).toMatchObject({ status: 405, body: { message: '405 Method Not Allowed' } });
      expect(sim.stateOf(token)).toBe('active');
    });

    it.each([
      ['of another project', PROJECT_ROTATE.replace('42', '43')],
      ['on the group route (a project token)', '/api/v4/groups/7/access_tokens/self/rotate'],
    ])('answers 401 Unauthorized to a token %s', async (_what, path) => {
      const token = projectToken();
      expect(await call(sim, 'POST', path, { token })).toMatchObject({ status: 401, body: { message: '401 Unauthorized' } });
      expect(sim.stateOf(token)).toBe('active');
    });

    it('answers 403 insufficient_scope without api or self_rotate and leaves the token active', async () => {
      const token = projectToken(['read_api']);
      expect(await call(sim, 'POST', PROJECT_ROTATE, { token })).toMatchObject({ status: 403, body: { error: 'insufficient_scope', scope: 'api self_rotate' } });
      expect(sim.stateOf(token)).toBe('active');
    });

    it('revokes the family when the rotated token is reused, even on the group route', async () => {
      const token = projectToken();
      const successor = ((await call(sim, 'POST', PROJECT_ROTATE, { token })).body as { token: string }).token;
      const reuse = await call(sim, 'POST', '/api/v4/groups/7/access_tokens/self/rotate', { token });
      expect(reuse).toMatchObject({ status: 401, body: REVOKED });
      expect(sim.stateOf(successor)).toBe('revoked');
      expect(sim.revokedTokens()).toContainEqual(expect.objectContaining({ token: successor, by: 'family' }));
    });
  });

  describe('runner endpoints', () => {
    it('answers 200 with a new glrt- token to reset_authentication_token (form body) and forgets the old one', async () => {
      const token = sim.createToken('runner_authentication_token');
      const res = await call(sim, 'POST', '/api/v4/runners/reset_authentication_token', { form: { token } });
      expect(res).toMatchObject({ status: 200, body: { token: expect.stringMatching(/^glrt-/), token_expires_at: null } });
      expect(sim.stateOf(token)).toBe('reset');
      expect(await call(sim, 'POST', '/api/v4/runners/verify', { form: { token } })).toMatchObject({ status: 403 });
    });

    it('answers 204 to DELETE /runners (JSON body) and deletes the runner', async () => {
      const token = sim.createToken('runner_authentication_token');
      expect((await call(sim, 'DELETE', '/api/v4/runners', { json: { token } })).status).toBe(204);
      expect(sim.stateOf(token)).toBe('deleted');
    });

    it.each([
      ['POST', '/api/v4/runners/reset_authentication_token'],
      ['DELETE', '/api/v4/runners'],
      ['POST', '/api/v4/runners/verify'],
    ])('answers 403 Forbidden to %s %s with an invalid token', async (method, path) => {
      expect(await call(sim, method, path, { form: { token: 'glrt-abcdefghij0123456789' } })).toMatchObject({ status: 403, body: { message: '403 Forbidden' } });
    });

    it('answers 200 to verify for a valid runner token', async () => {
      const token = sim.createToken('runner_authentication_token', { prefix: 'glrtr-' });
      expect(await call(sim, 'POST', '/api/v4/runners/verify', { form: { token } })).toMatchObject({ status: 200, body: { token } });
    });
  });

  describe('POST /api/v4/groups/:id/tokens/revoke', () => {
    const owner = (): string => sim.createToken('personal_access_token', { ownedGroupIds: [7], scopes: ['api'] });

    it('answers 200 with the record and revokes a token of the group', async () => {
      const token = sim.createToken('personal_access_token', { subkind: 'group', groupId: 7 });
      const res = await call(sim, 'POST', '/api/v4/groups/7/tokens/revoke', { token: owner(), json: { token } });
      expect(res).toMatchObject({ status: 200, body: { revoked: true, active: false } });
      expect(sim.stateOf(token)).toBe('revoked');
    });

    it.each([
      ['of another group', () => sim.createToken('personal_access_token', { groupId: 8 })],
      ['unknown', () => 'glpat-abcdefghij0123456789'],
      ['already revoked', () => sim.createToken('personal_access_token', { groupId: 7, revoked: true })],
      ['of an unsupported kind', () => sim.createToken('runner_authentication_token', { groupId: 7 })],
    ])('answers a bare 422 when the token is %s', async (_what, make) => {
      const res = await call(sim, 'POST', '/api/v4/groups/7/tokens/revoke', { token: owner(), json: { token: make() } });
      expect(res.status).toBe(422);
      expect(res.text).toBe('');
    });

    it('answers 403 when the credential does not own the group', async () => {
      const token = sim.createToken('personal_access_token', { groupId: 7 });
      const other = sim.createToken('personal_access_token', { ownedGroupIds: [8] });
      expect((await call(sim, 'POST', '/api/v4/groups/7/tokens/revoke', { token: other, json: { token } })).status).toBe(403);
      expect(sim.stateOf(token)).toBe('active');
    });
  });
});
