// The service binary (dist/src/main.js) as a real process: --version, --help, unknown arguments, and refusing to start
// a production image with no GitLab configured. None of these may start anything (no Redis, no simulator, no port).
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../src/runtime/free-port.js';
import { MAIN } from '../support/process.js';

interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

const version = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

/** Runs main.js; killed after `timeoutMs` (code null) so that a binary that starts the service anyway fails the test, not hangs it. */
async function main(args: readonly string[], env: NodeJS.ProcessEnv = {}, timeoutMs = 10_000): Promise<Run> {
  // REDIS_URL at a closed port: should the service start after all, it starts no redis-server of its own.
  const base = { PATH: process.env['PATH'], DATA_DIR: mkdtempSync(join(tmpdir(), 'trapi-main-')), PORT: '0', HOST: '127.0.0.1', REDIS_URL: `redis://127.0.0.1:${await freePort()}` };
  const child = spawn(process.execPath, [MAIN, ...args], { env: { ...base, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString('utf8')));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const code = await new Promise<number | null>((resolve) => child.once('close', (c) => resolve(c)));
  clearTimeout(timer);
  return { code, stdout, stderr };
}

describe('node dist/src/main.js', () => {
  it('--version (and -v) prints the package version and exits 0', async () => {
    for (const flag of ['--version', '-v']) expect(await main([flag])).toEqual({ code: 0, stdout: `${version}\n`, stderr: '' });
  });

  it('--help (and -h) prints what it is, the two commands, where configuration is documented, and exits 0', async () => {
    for (const flag of ['--help', '-h']) {
      const run = await main([flag]);
      expect(run).toMatchObject({ code: 0, stderr: '' });
      expect(run.stdout).toMatch(/Token Revocation API/);
      expect(run.stdout).toContain('node dist/src/main.js');
      expect(run.stdout).toContain('node dist/src/cli.js <command>');
      expect(run.stdout).toContain('trapi <command>');
      expect(run.stdout).toContain('README.md');
      expect(run.stdout).not.toMatch(/npx\s+trapi/);
    }
  });

  it('an unknown argument exits 2 with a message on stderr that does not echo it', async () => {
    for (const args of [['--port', '8080'], ['glpat-not-an-argument-0000'], ['--version', 'extra']]) {
      const run = await main(args);
      expect(run).toMatchObject({ code: 2, stdout: '' });
      expect(run.stderr).toMatch(/takes no arguments but --help or --version/);
      for (const a of args.filter((x) => x !== '--version')) expect(run.stderr).not.toContain(a);
    }
  });
});

describe('a production image with no GitLab configured', () => {
  const secrets = { REVOCATION_API_TOKENS: 'a-long-shared-secret-1', TOKEN_ENCRYPTION_KEY: Buffer.alloc(32, 3).toString('base64') };

  it('refuses to start (exit 2), naming GITLAB_URL, GITLAB_INSTANCES_FILE and SANDBOX, and starts no simulator', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'trapi-prod-'));
    const run = await main([], { ...secrets, NODE_ENV: 'production', DATA_DIR: dataDir, LOG_LEVEL: 'info' });
    expect(run.code).toBe(2);
    for (const name of ['GITLAB_URL', 'GITLAB_INSTANCES_FILE', 'SANDBOX']) expect(run.stderr).toContain(name);
    expect(`${run.stdout}${run.stderr}`).not.toMatch(/SANDBOX MODE/);
    expect(readdirSync(dataDir)).toEqual([]); // no sandbox secrets generated
  });
});
