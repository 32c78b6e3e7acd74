import { existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig, VARIABLES } from '../../src/config/index.js';
import { configTable } from '../../src/config/variables.js';
import { ConfigError } from '../../src/errors.js';
import { readConfig } from '../../src/cli/resources.js';
import { provisionSandboxSecrets, reloadedSandboxSecrets, storedSandboxSecrets } from '../../src/runtime/sandbox-secrets.js';

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

  describe('error messages', () => {
    it('say in words what is expected, list the allowed values, and never quote a pattern', () => {
      const problems = problemsOf({ ...production, PORT: 'eighty', ROLE: 'both', TOKEN_ENCRYPTION_KEY: 'short-but-secret', RUNNER_DELETE_ENABLED: 'yes', RETRY_HORIZON_HOURS: '0', STRATEGY_ORDER: 'admin,magic' });
      expect(problems).toEqual([
        'PORT: expected a whole number from 0 to 65535 (got "eighty")',
        'ROLE: expected one of: all, api, worker (got "both")',
        'TOKEN_ENCRYPTION_KEY: expected base64 of 32 bytes (openssl rand -base64 32), comma-separated for rotation, newest first',
        'STRATEGY_ORDER: expected a comma-separated list of admin, self, runner_reset, runner_delete, group (got "admin,magic")',
        'RUNNER_DELETE_ENABLED: expected true or false (got "yes")',
        'RETRY_HORIZON_HOURS: expected a number greater than 0 and at most 720 (got 0)',
      ]);
      expect(problems.join('\n')).not.toMatch(/must match pattern|must be equal to one of the allowed values|\^|\$/);
      expect(problems.join('\n')).not.toContain('short-but-secret');
    });

    it('parse REDIS_URL as it will be used: a password with / must be percent-encoded, and the message says so without quoting it', () => {
      const problems = problemsOf({ ...production, REDIS_URL: 'redis://:pa/ss-secret@redis.internal:6379' });
      expect(problems).toEqual([expect.stringMatching(/^REDIS_URL is not a valid URL.*percent-encoded: \/ as %2F/)]);
      expect(problems.join('\n')).not.toContain('ss-secret');
      expect(problemsOf({ ...production, REDIS_URL: 'redis://:pa#ss@redis.internal:6379' })).toEqual([expect.stringMatching(/^REDIS_URL is not a valid URL/)]);
      expect(loadConfig({ ...production, REDIS_URL: 'redis://:pa%2Fss@redis.internal:6379' }).secrets.redisUrl).toBe('redis://:pa%2Fss@redis.internal:6379');
      expect(problemsOf({ ...production, GITLAB_URL: 'https://gitlab.example.com:https' })).toEqual([expect.stringMatching(/^GITLAB_URL is not a valid URL \(is the port a number\?\)/)]);
    });

    it('in the instances file, name the unknown key, list the allowed values and say what a URL must look like', () => {
      const path = join(tmp(), 'instances.json');
      writeFileSync(path, JSON.stringify({ instances: [{ url: 'gitlab.example.com', adminTokn: 'glpat-secret-value-000000', strategies: ['magic'] }] }));
      const problems = problemsOf({ ...production, GITLAB_URL: undefined, GITLAB_INSTANCES_FILE: path });
      expect(problems).toContainEqual(expect.stringMatching(/^GITLAB_INSTANCES_FILE \/instances\/0 must NOT have additional properties: unknown key "adminTokn" \(known keys: name, url, adminToken,/));
      expect(problems).toContain('GITLAB_INSTANCES_FILE /instances/0/strategies/0 must be equal to one of the allowed values: admin, self, runner_reset, runner_delete, group');
      expect(problems).toContain('GITLAB_INSTANCES_FILE /instances/0/url must match pattern: expected an http:// or https:// URL of the instance, e.g. https://gitlab.example.com');
      expect(problems.join('\n')).not.toContain('glpat-secret-value');
      writeFileSync(path, JSON.stringify({ instances: [{ url: 'https://gitlab.example.com:abc' }] }));
      expect(problemsOf({ ...production, GITLAB_URL: undefined, GITLAB_INSTANCES_FILE: path })).toEqual([expect.stringMatching(/^GITLAB_INSTANCES_FILE \/instances\/0\/url is not a valid URL/)]);
    });
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

  it('in sandbox mode generates the inbound token and key once at start-up, keeps them, and reports the token only the first time', () => {
    const dir = tmp();
    const first = provisionSandboxSecrets(loadConfig({ DATA_DIR: dir }));
    expect(first.sandbox).toBe(true);
    expect(first.newSandboxApiToken).toBe(first.secrets.apiTokens[0]);
    expect(statSync(join(dir, 'sandbox-secrets.json')).mode & 0o777).toBe(0o600);
    const second = provisionSandboxSecrets(loadConfig({ DATA_DIR: dir }));
    expect(second.newSandboxApiToken).toBeUndefined();
    expect(second.secrets.apiTokens).toEqual(first.secrets.apiTokens);
    expect(second.secrets.encryptionKeys[0]?.id).toBe(first.secrets.encryptionKeys[0]?.id);
    // Like loadConfig's: printing or serialising the Config shows no secret.
    expect(Object.keys(second)).not.toContain('secrets');
    expect(JSON.stringify(second)).not.toContain(String(first.secrets.apiTokens[0]));
  });

  it('in sandbox mode never writes a configured secret to disk', () => {
    const dir = tmp();
    provisionSandboxSecrets(loadConfig({ DATA_DIR: dir, REVOCATION_API_TOKENS: 'configured-secret-123' }));
    expect(readFileSync(join(dir, 'sandbox-secrets.json'), 'utf8')).not.toContain('configured-secret-123');
  });

  it('when the configuration is loaded (a start, a SIGHUP reload, a CLI call), then nothing is written: the sandbox secrets file is start-up work', () => {
    const dir = tmp();
    const loaded = loadConfig({ DATA_DIR: dir });
    expect(loaded.sandbox).toBe(true);
    expect(existsSync(join(dir, 'sandbox-secrets.json'))).toBe(false);
    expect(loaded.secrets.apiTokens).toEqual([]);
    expect(storedSandboxSecrets(loaded).secrets.encryptionKeys).toEqual([]);
    expect(existsSync(join(dir, 'sandbox-secrets.json'))).toBe(false);
  });

  it('when the sandbox configuration is reloaded, then the unset secrets keep their running values and the file is not rewritten', () => {
    const dir = tmp();
    const file = join(dir, 'sandbox-secrets.json');
    const started = provisionSandboxSecrets(loadConfig({ DATA_DIR: dir }));
    const before = { text: readFileSync(file, 'utf8'), mtimeMs: statSync(file).mtimeMs };
    const reloaded = reloadedSandboxSecrets(loadConfig({ DATA_DIR: dir }), started.secrets);
    expect(reloaded.secrets.apiTokens).toEqual(started.secrets.apiTokens);
    expect(reloaded.secrets.encryptionKeys.map((k) => k.id)).toEqual(started.secrets.encryptionKeys.map((k) => k.id));
    expect(reloaded.newSandboxApiToken).toBeUndefined();
    expect({ text: readFileSync(file, 'utf8'), mtimeMs: statSync(file).mtimeMs }).toEqual(before);
    // A secret the new configuration sets wins over the running one.
    expect(reloadedSandboxSecrets(loadConfig({ DATA_DIR: dir, REVOCATION_API_TOKENS: 'configured-secret-123' }), started.secrets).secrets.apiTokens).toEqual(['configured-secret-123']);
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

    it('follows the one rule in the CLI: it stores no sandbox secret, reads the service\'s back, and refuses where the service would', () => {
      const dir = tmp();
      expect(readConfig({ DATA_DIR: dir }).sandbox).toBe(true);
      expect(existsSync(join(dir, 'sandbox-secrets.json'))).toBe(false);
      const service = provisionSandboxSecrets(loadConfig({ DATA_DIR: dir }));
      expect(readConfig({ DATA_DIR: dir }).secrets.encryptionKeys.map((k) => k.id)).toEqual(service.secrets.encryptionKeys.map((k) => k.id));
      // So that the CLI in a production image with GITLAB_URL forgotten says why, as the service does.
      expect(() => readConfig({ NODE_ENV: 'production', DATA_DIR: tmp() })).toThrow(/GITLAB_INSTANCES_FILE/);
    });
  });

  it('reads credential rotation per credential, off by default, and rejects settings that would lock out or loop', () => {
    expect(loadConfig(production).instances[0]?.rotation).toEqual({ admin: undefined, group: undefined });
    const c = loadConfig({ ...production, GITLAB_ADMIN_TOKEN_ROTATION: 'project:42', GITLAB_GROUP_ID: '7', GITLAB_GROUP_TOKEN: 'glpat-group-token-0123456789', GITLAB_GROUP_TOKEN_ROTATION: 'group:7', CREDENTIAL_ROTATION_PERIOD_DAYS: '14' });
    expect(c.instances[0]?.rotation).toEqual({ admin: { endpoint: 'project', id: 42 }, group: { endpoint: 'group', id: 7 } });
    expect(c.credentials).toEqual({ rotateBeforeMs: 7 * 86_400_000, periodMs: 14 * 86_400_000, lifetimeDays: 30, checkMs: 3_600_000 });
    expect(problemsOf({ ...production, GITLAB_ADMIN_TOKEN_ROTATION: 'sometimes' })).toEqual(['GITLAB_ADMIN_TOKEN_ROTATION: expected off, personal, project:<id> or group:<id> (got "sometimes")']);
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
