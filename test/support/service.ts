// Starts the real service in-process (real Redis, real GitLab simulator, real HTTP) with test-friendly timings.
import { randomBytes } from 'node:crypto';
import { loadConfig } from '../../src/config/index.js';
import { startService, type Service } from '../../src/service.js';
import { clusterNodesOf } from './cluster-redis.js';
import { captureLogs, type CapturedLogs } from './logs.js';

export const API_TOKEN = `test-shared-secret-${randomBytes(12).toString('hex')}`;
export const ENCRYPTION_KEY = randomBytes(32).toString('base64');

export interface TestService extends Service {
  readonly logs: CapturedLogs;
}

/** Fast retries and short locks so fault scenarios finish in seconds; everything else is production code. */
export function testEnv(redisUrl: string, gitlabUrl: string, adminToken: string, env: Record<string, string> = {}): NodeJS.ProcessEnv {
  return {
    REDIS_URL: redisUrl,
    GITLAB_URL: gitlabUrl,
    GITLAB_ADMIN_TOKEN: adminToken,
    REVOCATION_API_TOKENS: API_TOKEN,
    TOKEN_ENCRYPTION_KEY: ENCRYPTION_KEY,
    PORT: '0',
    HOST: '127.0.0.1',
    LOG_LEVEL: 'debug',
    RETRY_BASE_DELAY_MS: '50',
    RETRY_MAX_DELAY_MS: '400',
    JOB_LOCK_SECONDS: '2',
    GITLAB_TIMEOUT_MS: '2000',
    SHUTDOWN_TIMEOUT_SECONDS: '5',
    BREAKER_RECHECK_SECONDS: '0.3',
    UNAVAILABLE_RECHECK_MINUTES: '0.005',
    GITLAB_RATE_LIMIT_PER_SECOND: '1000',
    GITLAB_CONCURRENCY: '50',
    // Closed loopback ports: a test that sends another vendor's token without its own simulator reaches nothing.
    GITHUB_API_URL: 'http://127.0.0.1:9',
    SLACK_API_URL: 'http://127.0.0.1:9/api',
    // A cluster's TestRedis (TEST_REDIS=cluster): REDIS_URL then only gives the (absent) password.
    ...(clusterNodesOf(redisUrl) === undefined ? {} : { REDIS_CLUSTER_NODES: clusterNodesOf(redisUrl) }),
    ...env,
  };
}

export async function startTestService(redisUrl: string, gitlabUrl: string, adminToken: string, env: Record<string, string> = {}): Promise<TestService> {
  const logs = captureLogs();
  const service = await startService(loadConfig(testEnv(redisUrl, gitlabUrl, adminToken, env)), logs.logger);
  return { ...service, stop: () => service.stop(), logs };
}

/** Polls until `check` holds, or fails the test with `what` after `timeoutMs`. */
export async function eventually(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

export const item = (token: string, type = 'gitleaks_rule_id_gitlab_personal_access_token', extra: Record<string, unknown> = {}) => ({
  type,
  token,
  location: 'https://gitlab.example.com/group/project/-/raw/0123abcd/config.yml#L3',
  vulnerability: null,
  ...extra,
});
