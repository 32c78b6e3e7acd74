import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig, VARIABLES } from '../../src/config/index.js';
import { configTable } from '../../src/config/variables.js';
import { ConfigError } from '../../src/errors.js';
import { readConfig, withoutSandboxSecrets } from '../../src/cli/resources.js';

const KEY = Buffer.alloc(32, 7).toString('base64');
const production = { GITLAB_URL: 'https://gitlab.example.com', GITLAB_ADMIN_TOKEN: 'glpat-admin-token-0123456789', REVOCATION_API_TOKENS: 'a-long-shared-secret-1,a-long-shared-secret-2', TOKEN_ENCRYPTION_KEY: KEY };
const tmp = () => mkdtempSync(join(tmpdir(), 'trapi-config-'));

function problemsOf(env: NodeJS.ProcessEnv): readonly string[] {
  try {
    loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  return [];
}

describe('loadConfig', () => {
  it('applies the documented defaults when only the required variables are set', () => {
    const c = loadConfig(production);
    expect(c).toMatchObject({ port: 8080, host: '0.0.0.0', role: 'all', sandbox: false, rateLimitPerMinute: 1200 });
    expect(c.instances).toEqual([expect.objectContaining({ name: 'gitlab.example.com', url: 'https://gitlab.example.com', limits: { perSecond: 10, concurrency: 8 }, strategies: ['admin', 'self', 'runner_reset', 'group'] })]);
    expect(c.instances[0]?.adminToken).toBe('glpat-admin-token-0123456789');
    expect(c.limits.maxTokensPerRequest).toBe(10000);
    expect(c.outcomeRetentionSeconds).toBe(30 * 86400);
    expect(c.secrets.apiTokens).toEqual(['a-long-shared-secret-1', 'a-long-shared-secret-2']);
    expect(Object.isFrozen(c)).toBe(true);
  });

  it('never serialises secrets when the config is logged', () => {
    const text = JSON.stringify(loadConfig(production));
    for (const secret of ['a-long-shared-secret-1', 'glpat-admin-token-0123456789', KEY]) expect(text).not.toContain(secret);
  });

  it('names every offending variable at once', () => {
    const problems = problemsOf({ ...production, PORT: 'eighty', ROLE: 'both', TOKEN_ENCRYPTION_KEY: 'short', RATE_LIMIT_PER_MINUTE: '0' });
    expect(problems.join('\n')).toMatch(/PORT/);
    expect(problems.join('\n')).toMatch(/ROLE/);
    expect(problems.join('\n')).toMatch(/TOKEN_ENCRYPTION_KEY/);
    expect(problems.join('\n')).toMatch(/RATE_LIMIT_PER_MINUTE/);
  });

  it('does not quote a secret variable in its error', () => {
    const problems = problemsOf({ ...production, TOKEN_ENCRYPTION_KEY: 'not-base64-but-secret' });
    expect(problems.join('\n')).not.toContain('not-base64-but-secret');
  });

  it.each(['REVOCATION_API_TOKENS', 'TOKEN_ENCRYPTION_KEY'])('requires %s outside sandbox mode', (name) => {
    const env: NodeJS.ProcessEnv = { ...production };
    delete env[name];
    expect(problemsOf(env).join('\n')).toMatch(new RegExp(`${name} is required`));
  });

  it('rejects short pre-shared tokens', () => {
    expect(problemsOf({ ...production, REVOCATION_API_TOKENS: 'short' }).join('\n')).toMatch(/at least 16/);
  });

  it('reads *_FILE variables and refuses both forms at once', () => {
    const dir = tmp();
    writeFileSync(join(dir, 'tokens'), 'from-a-file-secret-123\n');
    const env = { ...production, REVOCATION_API_TOKENS: undefined, REVOCATION_API_TOKENS_FILE: join(dir, 'tokens') };
    expect(loadConfig(env).secrets.apiTokens).toEqual(['from-a-file-secret-123']);
    expect(problemsOf({ ...env, REVOCATION_API_TOKENS: 'x'.repeat(20) }).join('\n')).toMatch(/both set/);
    expect(problemsOf({ ...env, REVOCATION_API_TOKENS_FILE: join(dir, 'missing') }).join('\n')).toMatch(/cannot read/);
  });

  it('in sandbox mode generates the inbound token and key once, keeps them, and reports the token only the first time', () => {
    const dir = tmp();
    const first = loadConfig({ DATA_DIR: dir });
    expect(first.sandbox).toBe(true);
    expect(first.newSandboxApiToken).toBe(first.secrets.apiTokens[0]);
    expect(statSync(join(dir, 'sandbox-secrets.json')).mode & 0o777).toBe(0o600);
    const second = loadConfig({ DATA_DIR: dir });
    expect(second.newSandboxApiToken).toBeUndefined();
    expect(second.secrets.apiTokens).toEqual(first.secrets.apiTokens);
    expect(second.secrets.encryptionKeys[0]?.id).toBe(first.secrets.encryptionKeys[0]?.id);
  });

  it('in sandbox mode never writes a configured secret to disk', () => {
    const dir = tmp();
    loadConfig({ DATA_DIR: dir, REVOCATION_API_TOKENS: 'configured-secret-123' });
    expect(readFileSync(join(dir, 'sandbox-secrets.json'), 'utf8')).not.toContain('configured-secret-123');
  });

  describe('sandbox mode', () => {
    const secrets = { REVOCATION_API_TOKENS: 'a-long-shared-secret-1', TOKEN_ENCRYPTION_KEY: KEY };

    it('runs with no configuration at all outside production (npm install && npm start)', () => {
      expect(loadConfig({ DATA_DIR: tmp() }).sandbox).toBe(true);
      expect(loadConfig({ DATA_DIR: tmp(), NODE_ENV: 'development' }).sandbox).toBe(true);
    });

    it('refuses to start with NODE_ENV=production and no GitLab, naming GITLAB_URL, GITLAB_INSTANCES_FILE and SANDBOX', () => {
      const problems = problemsOf({ ...secrets, NODE_ENV: 'production', DATA_DIR: tmp() });
      expect(problems).toHaveLength(1);
      for (const name of ['GITLAB_URL', 'GITLAB_INSTANCES_FILE', 'SANDBOX']) expect(problems[0]).toContain(name);
    });

    it('runs in production only with SANDBOX=true, and never with SANDBOX=false', () => {
      expect(loadConfig({ ...secrets, NODE_ENV: 'production', SANDBOX: 'true', DATA_DIR: tmp() }).sandbox).toBe(true);
      expect(problemsOf({ DATA_DIR: tmp(), SANDBOX: 'false' }).join('\n')).toMatch(/SANDBOX is false and no GitLab instance is configured/);
    });

    it('refuses SANDBOX=true beside a configured GitLab (which one wins would be a guess)', () => {
      expect(problemsOf({ ...production, SANDBOX: 'true' })).toEqual([expect.stringMatching(/^SANDBOX=true and a GitLab instance .* are both set/)]);
      expect(loadConfig({ ...production, NODE_ENV: 'production', SANDBOX: 'false' }).sandbox).toBe(false);
    });

    it('follows the one rule in the CLI: placeholders for the sandbox secrets only where the service would run sandbox mode', () => {
      expect(withoutSandboxSecrets({ DATA_DIR: '/x' })).toMatchObject({ REVOCATION_API_TOKENS: expect.any(String), TOKEN_ENCRYPTION_KEY: expect.any(String) });
      for (const env of [{ NODE_ENV: 'production' }, { SANDBOX: 'false' }, { GITLAB_URL: 'https://gitlab.example.com' }]) expect(withoutSandboxSecrets(env)).toBe(env);
      expect(withoutSandboxSecrets({ NODE_ENV: 'production', SANDBOX: 'true' })).toHaveProperty('TOKEN_ENCRYPTION_KEY');
      // So that the CLI in a production image with GITLAB_URL forgotten says why, as the service does.
      expect(() => readConfig(withoutSandboxSecrets({ NODE_ENV: 'production', DATA_DIR: tmp() }))).toThrow(/GITLAB_INSTANCES_FILE/);
    });
  });

  it('reads credential rotation per credential, off by default, and rejects settings that would lock out or loop', () => {
    expect(loadConfig(production).instances[0]?.rotation).toEqual({ admin: undefined, group: undefined });
    const c = loadConfig({ ...production, GITLAB_ADMIN_TOKEN_ROTATION: 'project:42', GITLAB_GROUP_ID: '7', GITLAB_GROUP_TOKEN: 'glpat-group-token-0123456789', GITLAB_GROUP_TOKEN_ROTATION: 'group:7', CREDENTIAL_ROTATION_PERIOD_DAYS: '14' });
    expect(c.instances[0]?.rotation).toEqual({ admin: { endpoint: 'project', id: 42 }, group: { endpoint: 'group', id: 7 } });
    expect(c.credentials).toEqual({ rotateBeforeMs: 7 * 86_400_000, periodMs: 14 * 86_400_000, lifetimeDays: 30, checkMs: 3_600_000 });
    expect(problemsOf({ ...production, GITLAB_ADMIN_TOKEN_ROTATION: 'sometimes' })[0]).toMatch(/^GITLAB_ADMIN_TOKEN_ROTATION must match pattern/);
    expect(problemsOf({ ...production, GITLAB_ADMIN_TOKEN: undefined, GITLAB_ADMIN_TOKEN_ROTATION: 'personal' })).toEqual(['instance gitlab.example.com: admin token rotation is on, but no admin token is configured']);
    expect(problemsOf({ ...production, GITLAB_GROUP_TOKEN_ROTATION: 'group:7' })).toEqual(['instance gitlab.example.com: group token rotation is on, but no group token is configured']);
    expect(problemsOf({ ...production, CREDENTIAL_LIFETIME_DAYS: '7' })).toEqual(['CREDENTIAL_LIFETIME_DAYS must exceed CREDENTIAL_ROTATE_BEFORE_DAYS, or every rotated credential would be due again at once']);
  });

  it('documents every variable in the README, in the table generated from the one list', () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    expect(readme).toContain(configTable()); // regenerate with: npm run config-table
    for (const v of VARIABLES) expect(readme).toContain(`| \`${v.name}\``);
  });
});
