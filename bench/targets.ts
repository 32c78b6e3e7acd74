// Starts the two bench targets as child processes: the real service (ROLE=api) and the bare baseline server.
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { spawnChild, type Child } from './processes.js';
import { freePort } from './redis.js';

export interface Target {
  readonly name: 'service' | 'bare';
  readonly url: string;
  readonly child: Child;
}

/** Both run from dist/ (this file is dist/bench/targets.js once built). */
const MAIN = fileURLToPath(new URL('../src/main.js', import.meta.url));
const BARE = fileURLToPath(new URL('./bare-server.js', import.meta.url));

export const API_TOKEN = `bench-shared-secret-${randomBytes(12).toString('hex')}`;

/** Only what a child needs from our environment, so a stray REDIS_URL or LOG_LEVEL in the shell cannot leak in. */
function baseEnv(): NodeJS.ProcessEnv {
  const { PATH, HOME } = process.env;
  return { ...(PATH === undefined ? {} : { PATH }), ...(HOME === undefined ? {} : { HOME }), NODE_ENV: 'production' };
}

export async function startService(redisUrl: string, rateLimitPerMinute: number, logLevel: string): Promise<Target> {
  // We choose the port: with LOG_LEVEL=warn the service does not print its (info-level) "started" line, so we poll readiness instead.
  const port = await freePort();
  const child = spawnChild('service', process.execPath, [MAIN], {
    ...baseEnv(),
    ROLE: 'api',
    REDIS_URL: redisUrl,
    // Any non-sandbox GitLab: with ROLE=api nothing calls it, and it keeps the service out of sandbox mode.
    GITLAB_URL: 'http://127.0.0.1:9',
    GITLAB_ADMIN_TOKEN: 'glpat-bench-not-used-000000',
    REVOCATION_API_TOKENS: API_TOKEN,
    TOKEN_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
    PORT: String(port),
    HOST: '127.0.0.1',
    RATE_LIMIT_PER_MINUTE: String(rateLimitPerMinute),
    LOG_LEVEL: logLevel,
  });
  const url = `http://127.0.0.1:${port}`;
  await waitUntilReady(child, `${url}/-/readiness`, 20_000);
  return { name: 'service', url, child };
}

export async function startBare(redisUrl: string): Promise<Target> {
  const child = spawnChild('bare-server', process.execPath, [BARE], { ...baseEnv(), REDIS_URL: redisUrl, PORT: '0', HOST: '127.0.0.1' });
  const url = await child.waitForLine((line) => {
    try {
      const rec = JSON.parse(line) as { msg?: unknown; url?: unknown };
      return rec.msg === 'bare server started' && typeof rec.url === 'string' ? rec.url : undefined;
    } catch {
      return undefined;
    }
  }, 10_000);
  return { name: 'bare', url, child };
}

async function waitUntilReady(child: Child, readinessUrl: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.proc.exitCode !== null || child.proc.signalCode !== null) throw new Error(`${child.name} exited before it was ready:\n${child.tail()}`);
    const ok = await fetch(readinessUrl).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`${child.name} not ready after ${timeoutMs} ms:\n${child.tail()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
