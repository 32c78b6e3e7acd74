import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import request from 'supertest';
import { makeToken, startGitLabSimulator, type GitLabSimulator } from '../../simulator/index.js';
import { outcomeOf } from '../support/queue.js';
import { startTestRedis, type TestRedis } from '../support/redis.js';
import { API_TOKEN, eventually, item, startTestService, type TestService } from '../support/service.js';

let redis: TestRedis;
let client: Redis;
let own: GitLabSimulator; // a self-managed instance: admin credential, instance token prefix
let dotcom: GitLabSimulator; // stands in for GitLab.com: no admin credential of ours
let svc: TestService;

beforeAll(async () => {
  redis = await startTestRedis();
  client = redis.client();
  own = await startGitLabSimulator({ instancePrefix: 'acme' });
  dotcom = await startGitLabSimulator();
  const file = join(mkdtempSync(join(tmpdir(), 'trapi-inst-')), 'instances.yaml');
  writeFileSync(
    file,
    ['instances:', `  - { name: own, url: "${own.url}", adminToken: "${own.adminToken}", tokenPrefix: acme- }`, `  - { name: dotcom, url: "${dotcom.url}" }`].join('\n'),
  );
  svc = await startTestService(redis.url, '', '', { GITLAB_URL: '', GITLAB_ADMIN_TOKEN: '', GITLAB_INSTANCES_FILE: file });
});
afterAll(async () => {
  await svc?.stop();
  await own?.stop();
  await dotcom?.stop();
  await redis?.stop();
});

const submit = async (token: string, type = 'gitleaks_rule_id_gitlab_personal_access_token') =>
  request(svc.url).post('/v1/revoke_tokens').set('Authorization', API_TOKEN).send([item(token, type)]).expect(204);
const outcome = async (token: string) => {
  await eventually(async () => (await outcomeOf(client, token)) !== undefined, 'an outcome');
  return outcomeOf(client, token);
};
const callsFor = (sim: GitLabSimulator, token: string) => sim.calls().filter((c) => c.token === token).length;

describe('several GitLab instances', () => {
  it('revokes on the instance that knows the token, after the others said not found', async () => {
    const token = dotcom.createToken('personal_access_token');
    await submit(token);
    expect(await outcome(token)).toMatchObject({ status: 'revoked', instance: 'dotcom', via: 'self' });
    expect(dotcom.stateOf(token)).toBe('revoked');
    expect(callsFor(own, token)).toBeGreaterThan(0); // asked first, answered "not found"
  });

  it('uses the admin API where we hold an admin credential', async () => {
    const token = own.createToken('deploy_token');
    await submit(`${token}`, 'gitleaks_rule_id_gitlab_deploy_token');
    expect(await outcome(token)).toMatchObject({ status: 'revoked', instance: 'own', via: 'admin' });
  });

  it('tries the instance whose token prefix the token carries first', async () => {
    const token = own.createToken('personal_access_token');
    expect(token.startsWith('acme-glpat-')).toBe(true);
    await submit(token);
    expect(await outcome(token)).toMatchObject({ status: 'revoked', instance: 'own' });
    expect(callsFor(dotcom, token)).toBe(0);
  });

  it('records not_found, a terminal outcome, when no instance knows the token', async () => {
    const token = makeToken('personal_access_token');
    const selfCalls = () => dotcom.calls().filter((c) => c.path === '/api/v4/personal_access_tokens/self' && c.status === 401).length;
    const before = selfCalls();
    await submit(token);
    expect(await outcome(token)).toMatchObject({ status: 'not_found', via: 'all_instances' });
    expect(callsFor(own, token)).toBeGreaterThan(0); // admin identify: 404
    expect(selfCalls()).toBe(before + 1); // the leaked token, presented to itself: 401
  });

  it('offers only the kinds some instance can act on', async () => {
    const { body } = await request(svc.url).get('/v1/revocable_token_types').set('Authorization', API_TOKEN);
    expect(body.types).toContain('gitleaks_rule_id_gitlab_deploy_token'); // admin on `own`
    expect(body.types).not.toContain('gitleaks_rule_id_gitlab_runner_registration_token');
  });
});

describe('an instance without any admin credential', () => {
  let alone: TestService;
  let aloneRedis: TestRedis;
  beforeAll(async () => {
    aloneRedis = await startTestRedis();
    alone = await startTestService(aloneRedis.url, dotcom.url, '', { GITLAB_ADMIN_TOKEN: '' });
  });
  afterAll(async () => {
    await alone?.stop();
    await aloneRedis?.stop();
  });

  it('offers exactly the kinds a credential-free strategy can revoke, and revokes them', async () => {
    const { body } = await request(alone.url).get('/v1/revocable_token_types').set('Authorization', API_TOKEN);
    expect(body.types).toContain('gitleaks_rule_id_gitlab_personal_access_token');
    expect(body.types).toContain('gitleaks_rule_id_gitlab_runner_auth_token');
    expect(body.types).not.toContain('gitleaks_rule_id_gitlab_deploy_token');
    const pat = dotcom.createToken('personal_access_token');
    const runner = dotcom.createToken('runner_authentication_token');
    await request(alone.url)
      .post('/v1/revoke_tokens')
      .set('Authorization', API_TOKEN)
      .send([item(pat), item(runner, 'gitleaks_rule_id_gitlab_runner_auth_token'), item(makeToken('deploy_token'), 'gitleaks_rule_id_gitlab_deploy_token')])
      .expect(400);
    await eventually(() => dotcom.stateOf(pat) === 'revoked' && dotcom.stateOf(runner) === 'reset', 'revoked without an admin credential');
  });
});

describe('start-up warning for an instance without an admin credential', () => {
  it('names only the strategies that will really run there: no group without a group, none that needs a credential', () => {
    const warning = svc.logs.records().find((l) => l['instance'] === 'dotcom' && String(l['msg']).startsWith('no admin credential'));
    expect(warning).toBeDefined();
    expect(warning?.['strategies']).toEqual(['self', 'runner_reset']);
    expect(String(warning?.['msg'])).toBe('no admin credential for this instance: only self, runner_reset will run');
  });
});
