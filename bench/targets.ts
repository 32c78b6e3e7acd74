// Starts the bench targets as child processes: the real service (ROLE=api), the bare baseline server, and a ROLE=worker.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { spawnChild, type Child } from './processes.js';
import { freePort } from '../src/runtime/free-port.js';

export interface Target {
  readonly name: 'service' | 'bare';
  readonly url: string;
  readonly child: Child;
}

/** Both run from dist/ (this file is dist/bench/targets.js once built). */
const MAIN = fileURLToPath(new URL('../src/main.js', import.meta.url));

/**
 * The Node flags `npm start` gives dist/src/main.js (package.json's start script; the Dockerfile and the systemd unit
 * use the same, test/unit/start-command.test.ts checks it): the bench measures the service as it is deployed. To try
 * other heap flags, change the start script: flags given here take precedence over BENCH_SERVICE_NODE_OPTIONS.
 */
export function startFlags(startScript: string): string[] {
  const words = startScript.trim().split(/\s+/);
  if (words[0] !== 'node' || words.at(-1) !== 'dist/src/main.js') throw new Error(`package.json's start script is not \`node [flags] dist/src/main.js\`: ${startScript}`);
  return words.slice(1, -1);
}

const PACKAGE = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { scripts: { start: string } };
const SERVICE_ARGS = [...startFlags(PACKAGE.scripts.start), MAIN];
const BARE = fileURLToPath(new URL('./bare-server.js', import.meta.url));

export const API_TOKEN = `bench-shared-secret-${randomBytes(12).toString('hex')}`;

/** Only what a child needs from our environment, so a stray REDIS_URL or LOG_LEVEL in the shell cannot leak in. */
function baseEnv(): NodeJS.ProcessEnv {
  const { PATH, HOME, BENCH_SERVICE_NODE_OPTIONS } = process.env;
  // BENCH_SERVICE_NODE_OPTIONS: Node flags for the processes under test only, e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof`.
  const nodeOptions = BENCH_SERVICE_NODE_OPTIONS ? { NODE_OPTIONS: BENCH_SERVICE_NODE_OPTIONS } : {};
  return { ...(PATH === undefined ? {} : { PATH }), ...(HOME === undefined ? {} : { HOME }), NODE_ENV: 'production', ...nodeOptions };
}

/** The GitLab a service process is pointed at, and the key its intake jobs are sealed with (an API and its workers share it). */
export interface ServiceGitLab {
  readonly url: string;
  readonly adminToken: string;
  /** TOKEN_ENCRYPTION_KEY; a fresh random one when absent (fine for a lone ROLE=api, whose jobs nobody opens). */
  readonly encryptionKey?: string;
}

/** With ROLE=api nothing calls GitLab: any non-sandbox URL keeps the service out of sandbox mode. */
const UNUSED_GITLAB: ServiceGitLab = { url: 'http://127.0.0.1:9', adminToken: 'glpat-bench-not-used-000000' };

export const newEncryptionKey = (): string => randomBytes(32).toString('base64');

function serviceEnv(role: 'api' | 'worker', redisUrl: string, port: number, logLevel: string, gitlab: ServiceGitLab): NodeJS.ProcessEnv {
  return {
    ...baseEnv(),
    ROLE: role,
    REDIS_URL: redisUrl,
    GITLAB_URL: gitlab.url,
    GITLAB_ADMIN_TOKEN: gitlab.adminToken,
    REVOCATION_API_TOKENS: API_TOKEN,
    TOKEN_ENCRYPTION_KEY: gitlab.encryptionKey ?? newEncryptionKey(),
    PORT: String(port),
    HOST: '127.0.0.1',
    LOG_LEVEL: logLevel,
    // Closed loopback ports unless a section points them at its simulator: a bench never reaches the internet.
    GITHUB_API_URL: 'http://127.0.0.1:9',
    SLACK_API_URL: 'http://127.0.0.1:9/api',
  };
}

export async function startService(redisUrl: string, rateLimitPerMinute: number, logLevel: string, gitlab: ServiceGitLab = UNUSED_GITLAB, extraEnv: NodeJS.ProcessEnv = {}): Promise<Target> {
  // We choose the port: with LOG_LEVEL=warn the service does not print its (info-level) "started" line, so we poll readiness instead.
  const port = await freePort();
  const child = spawnChild('service', process.execPath, SERVICE_ARGS, { ...serviceEnv('api', redisUrl, port, logLevel, gitlab), RATE_LIMIT_PER_MINUTE: String(rateLimitPerMinute), ...extraEnv });
  const url = `http://127.0.0.1:${port}`;
  await waitUntilReady(child, `${url}/-/readiness`, 20_000);
  return { name: 'service', url, child };
}

export interface WorkerLimits {
  /** GITLAB_RATE_LIMIT_PER_SECOND */
  readonly ratePerSecond: number;
  /** GITLAB_CONCURRENCY */
  readonly gitlabConcurrency: number;
  /** WORKER_CONCURRENCY */
  readonly workerConcurrency: number;
}

/**
 * A ROLE=worker process. Not waited for: it starts taking jobs as soon as it is up, and the caller measures from
 * what GitLab sees. Its health endpoint is on `url`.
 */
export async function startWorker(redisUrl: string, logLevel: string, gitlab: ServiceGitLab, limits: WorkerLimits, extraEnv: NodeJS.ProcessEnv = {}): Promise<{ url: string; child: Child }> {
  const port = await freePort();
  const child = spawnChild('worker', process.execPath, SERVICE_ARGS, {
    ...serviceEnv('worker', redisUrl, port, logLevel, gitlab),
    GITLAB_RATE_LIMIT_PER_SECOND: String(limits.ratePerSecond),
    GITLAB_CONCURRENCY: String(limits.gitlabConcurrency),
    WORKER_CONCURRENCY: String(limits.workerConcurrency),
    ...extraEnv,
  });
  return { url: `http://127.0.0.1:${port}`, child };
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

export async function waitUntilReady(child: Child, readinessUrl: string, timeoutMs: number): Promise<void> {
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
