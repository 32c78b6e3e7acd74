import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { makeToken, type GitLabSimulator } from '../../simulator/index.js';
import { outcomeOf } from '../support/queue.js';
import { API_TOKEN, eventually, item } from '../support/service.js';
import { useStack } from '../support/stack.js';

/** Both instances in one GITLAB_INSTANCES_FILE: `own` with our admin credential and its token prefix, `dotcom` without. */
function instancesFile(own: GitLabSimulator, dotcom: GitLabSimulator): string {
  const file = join(mkdtempSync(join(tmpdir(), 'trapi-inst-')), 'instances.yaml');
  writeFileSync(
    file,
    ['instances:', `  - { name: own, url: "${own.url}", adminToken: "${own.adminToken}", tokenPrefix: acme- }`, `  - { name: dotcom, url: "${dotcom.url}" }`].join('\n'),
  );
  return file;
}

/**
 * Stands in for GitLab.com: no admin credential of ours. Its stack stops first (afterAll hooks run in order), which
 * costs nothing: a service's stop makes no call to GitLab.
 */
const com = useStack({ redis: false, service: false });
/** Its simulator is a self-managed instance: admin credential, instance token prefix. */
const stack = useStack({
  gitlab: { instancePrefix: 'acme' },
  env: ({ gitlab }) => ({ GITLAB_URL: '', GITLAB_ADMIN_TOKEN: '', GITLAB_INSTANCES_FILE: instancesFile(gitlab, com.gitlab) }),
});

const submit = async (token: string, type = 'gitleaks_rule_id_gitlab_personal_access_token') =>
  request(stack.service.url).post('/v1/revoke_tokens').set('Authorization', API_TOKEN).send([item(token, type)]).expect(204);
const outcome = async (token: string) => {
  await eventually(async () => (await outcomeOf(stack.client, token)) !== undefined, 'an outcome');
  return outcomeOf(stack.client, token);
};
const callsFor = (sim: GitLabSimulator, token: string) => sim.calls().filter((c) => c.token === token).length;

describe('several GitLab instances', () => {
  it('revokes on the instance that knows the token, after the others said not found', async () => {
    const token = com.gitlab.createToken('personal_access_token');
    await submit(token);
    expect(await outcome(token)).toMatchObject({ status: 'revoked', instance: 'dotcom', via: 'self' });
    expect(com.gitlab.stateOf(token)).toBe('revoked');
    expect(callsFor(stack.gitlab, token)).toBeGreaterThan(0); // asked first, answered "not found"
  });

  it('uses the admin API where we hold an admin credential', async () => {
    const token = stack.gitlab.createToken('deploy_token');
    await submit(`${token}`, 'gitleaks_rule_id_gitlab_deploy_token');
    expect(await outcome(token)).toMatchObject({ status: 'revoked', instance: 'own', via: 'admin' });
  });

  it('tries the instance whose token prefix the token carries first', async () => {
    const token = stack.gitlab.createToken('personal_access_token');
    expect(token.startsWith('acme-glpat-')).toBe(true);
    await submit(token);
    expect(await outcome(token)).toMatchObject({ status: 'revoked', instance: 'own' });
    expect(callsFor(com.gitlab, token)).toBe(0);
  });

  it('records not_found, a terminal outcome, when no instance knows the token', async () => {
    const token = makeToken('personal_access_token');
    const selfCalls = () => com.gitlab.calls().filter((c) => c.path === '/api/v4/personal_access_tokens/self' && c.status === 401).length;
    const before = selfCalls();
    await submit(token);
    expect(await outcome(token)).toMatchObject({ status: 'not_found', via: 'all_instances' });
    expect(callsFor(stack.gitlab, token)).toBeGreaterThan(0); // admin identify: 404
    expect(selfCalls()).toBe(before + 1); // the leaked token, presented to itself: 401
  });

  it('offers only the kinds some instance can act on', async () => {
    const { body } = await request(stack.service.url).get('/v1/revocable_token_types').set('Authorization', API_TOKEN);
    expect(body.types).toContain('gitleaks_rule_id_gitlab_deploy_token'); // admin on `own`
    expect(body.types).not.toContain('gitleaks_rule_id_gitlab_runner_registration_token');
  });
});

describe('an instance without any admin credential', () => {
  const alone = useStack({ gitlab: () => com.gitlab, env: { GITLAB_ADMIN_TOKEN: '' } });

  it('offers exactly the kinds a credential-free strategy can revoke, and revokes them', async () => {
    const { body } = await request(alone.service.url).get('/v1/revocable_token_types').set('Authorization', API_TOKEN);
    expect(body.types).toContain('gitleaks_rule_id_gitlab_personal_access_token');
    expect(body.types).toContain('gitleaks_rule_id_gitlab_runner_auth_token');
    expect(body.types).not.toContain('gitleaks_rule_id_gitlab_deploy_token');
    const pat = com.gitlab.createToken('personal_access_token');
    const runner = com.gitlab.createToken('runner_authentication_token');
    await request(alone.service.url)
      .post('/v1/revoke_tokens')
      .set('Authorization', API_TOKEN)
      .send([item(pat), item(runner, 'gitleaks_rule_id_gitlab_runner_auth_token'), item(makeToken('deploy_token'), 'gitleaks_rule_id_gitlab_deploy_token')])
      .expect(400);
    await eventually(() => com.gitlab.stateOf(pat) === 'revoked' && com.gitlab.stateOf(runner) === 'reset', 'revoked without an admin credential');
  });
});

describe('start-up warning for an instance without an admin credential', () => {
  it('names only the strategies that will really run there: no group without a group, none that needs a credential', () => {
    const warning = stack.service.logs.records().find((l) => l['instance'] === 'dotcom' && String(l['msg']).startsWith('no admin credential'));
    expect(warning).toBeDefined();
    expect(warning?.['strategies']).toEqual(['self', 'runner_reset']);
    expect(String(warning?.['msg'])).toBe('no admin credential for this instance: only self, runner_reset will run');
  });
});
