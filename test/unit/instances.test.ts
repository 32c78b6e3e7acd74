import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config/index.js';
import { ConfigError } from '../../src/errors.js';

const KEY = Buffer.alloc(32, 9).toString('base64');
const base = { REVOCATION_API_TOKENS: 'a-long-shared-secret-1', TOKEN_ENCRYPTION_KEY: KEY };
const dir = mkdtempSync(join(tmpdir(), 'trapi-instances-'));
const file = (name: string, text: string): string => {
  writeFileSync(join(dir, name), text);
  return join(dir, name);
};

function problemsOf(env: NodeJS.ProcessEnv): string {
  try {
    loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems.join('\n');
    throw err;
  }
  return '';
}

describe('GitLab instances configuration', () => {
  it('reads several instances from YAML, with defaults, files for secrets, and per-instance overrides', () => {
    const adminFile = file('admin-token', 'glpat-from-a-file-000000000\n');
    const path = file(
      'instances.yaml',
      [
        'instances:',
        '  - url: https://gitlab.example.com/',
        `    adminTokenFile: ${adminFile}`,
        '    adminTokenRotation: personal',
        '    tokenPrefix: acme-',
        '    group: { id: 42, token: glpat-group-owner-token-0000, tokenRotation: "group:42" }',
        '  - name: dotcom',
        '    url: https://gitlab.com',
        '    rateLimitPerSecond: 2.5',
        '    concurrency: 3',
        '    strategies: [self, runner_reset]',
      ].join('\n'),
    );
    const c = loadConfig({ ...base, GITLAB_INSTANCES_FILE: path, STRATEGY_ORDER: 'self,admin' });
    expect(c.sandbox).toBe(false);
    expect(c.instances.map((i) => i.name)).toEqual(['gitlab.example.com', 'dotcom']);
    const [own, dotcom] = c.instances;
    expect(own).toMatchObject({ url: 'https://gitlab.example.com', tokenPrefix: 'acme-', strategies: ['self', 'admin'], limits: { perSecond: 10, concurrency: 8 } });
    expect(own?.adminToken).toBe('glpat-from-a-file-000000000');
    expect(own?.group).toEqual({ id: 42 }); // the token is there, but not enumerable
    expect(own?.group?.token).toBe('glpat-group-owner-token-0000');
    expect(own?.rotation).toEqual({ admin: { endpoint: 'personal' }, group: { endpoint: 'group', id: 42 } });
    expect(dotcom).toMatchObject({ adminToken: undefined, limits: { perSecond: 2.5, concurrency: 3 }, strategies: ['self', 'runner_reset'], rotation: { admin: undefined, group: undefined } });
    expect(JSON.stringify(c.instances)).not.toMatch(/glpat-/);
  });

  it('reads the same list from JSON', () => {
    const path = file('instances.json', JSON.stringify({ instances: [{ url: 'https://a.example.com' }, { url: 'https://b.example.com' }] }));
    expect(loadConfig({ ...base, GITLAB_INSTANCES_FILE: path }).instances.map((i) => i.name)).toEqual(['a.example.com', 'b.example.com']);
  });

  it.each([
    ['an unknown key', { instances: [{ url: 'https://a.example.com', adminTokn: 'x' }] }, /must NOT have additional properties/],
    ['a bad URL', { instances: [{ url: 'gitlab.example.com' }] }, /\/instances\/0\/url must match pattern/],
    ['an unknown strategy', { instances: [{ url: 'https://a.example.com', strategies: ['magic'] }] }, /strategies\/0 must be equal to one of the allowed values/],
    ['no instances', { instances: [] }, /must NOT have fewer than 1 items/],
    ['duplicate names', { instances: [{ url: 'https://a.example.com' }, { url: 'https://a.example.com/x' }] }, /"a.example.com" is used twice/],
    ['both adminToken and adminTokenFile', { instances: [{ url: 'https://a.example.com', adminToken: 'glpat-000000000000000000000', adminTokenFile: '/x' }] }, /not both/],
  ])('refuses a file with %s, naming where', (_name, content, message) => {
    expect(problemsOf({ ...base, GITLAB_INSTANCES_FILE: file(`bad-${Math.random()}.json`, JSON.stringify(content)) })).toMatch(message);
  });

  it('refuses unparsable files, unreadable files and two ways of configuring GitLab at once', () => {
    expect(problemsOf({ ...base, GITLAB_INSTANCES_FILE: file('broken.yaml', 'instances: [') })).toMatch(/not valid JSON or YAML/);
    expect(problemsOf({ ...base, GITLAB_INSTANCES_FILE: join(dir, 'missing.yaml') })).toMatch(/cannot read/);
    expect(problemsOf({ ...base, GITLAB_INSTANCES_FILE: file('ok.json', '{"instances":[{"url":"https://a.example.com"}]}'), GITLAB_URL: 'https://b.example.com' })).toMatch(/both set/);
  });

  it('builds one instance from the GITLAB_* variables, with runner_delete only when enabled', () => {
    const single = { ...base, GITLAB_URL: 'https://gitlab.example.com', GITLAB_GROUP_ID: '7', GITLAB_GROUP_TOKEN: 'glpat-group-owner-token-0000' };
    expect(loadConfig(single).instances[0]).toMatchObject({ strategies: ['admin', 'self', 'runner_reset', 'group'], group: { id: 7 } });
    expect(loadConfig({ ...single, RUNNER_DELETE_ENABLED: 'true' }).instances[0]?.strategies).toEqual(['admin', 'self', 'runner_reset', 'group', 'runner_delete']);
    expect(loadConfig({ ...single, STRATEGY_ORDER: 'runner_delete,admin' }).instances[0]?.strategies).toEqual(['admin']);
    expect(problemsOf({ ...base, GITLAB_URL: 'https://gitlab.example.com', GITLAB_GROUP_ID: '7' })).toMatch(/must be set together/);
  });
});
