// How trapi is run, as documented: never `npx trapi` (outside the checkout that runs whatever the public registry has
// under that name), and each documented invocation runs our own CLI.
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, statSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CLI = join(ROOT, 'dist/src/cli.js');
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string; scripts: Record<string, string> };
const read = (path: string) => readFileSync(join(ROOT, path), 'utf8');

function filesUnder(dir: string): string[] {
  return readdirSync(join(ROOT, dir)).flatMap((name) => {
    const path = join(dir, name);
    return statSync(join(ROOT, path)).isDirectory() ? filesUnder(path) : [path];
  });
}

function run(command: string, args: readonly string[], cwd = ROOT): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(command, args, { cwd, env: { PATH: process.env['PATH'], HOME: process.env['HOME'] }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString('utf8')));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('running trapi', () => {
  it('no message in src/ and no document says npx trapi', () => {
    const files = [...filesUnder('src'), 'README.md', ...filesUnder('docs').filter((f) => f.endsWith('.md'))];
    expect(files.length).toBeGreaterThan(20);
    const offending = files.filter((f) => /npx\s+trapi/.test(read(f)));
    expect(offending).toEqual([]);
  });

  it('the README and the runbook document the invocations that run our copy', () => {
    for (const doc of ['README.md', 'docs/runbook.md']) {
      const text = read(doc);
      expect(text).toContain('node dist/src/cli.js');
      expect(text).toContain('npm run -s trapi --');
      expect(text).toMatch(/docker compose exec worker trapi status/);
    }
    expect(pkg.scripts['trapi']).toBe('node dist/src/cli.js');
  });

  it('node dist/src/cli.js runs our CLI', async () => {
    expect(await run(process.execPath, [CLI, '--version'])).toEqual({ code: 0, stdout: `${pkg.version}\n`, stderr: '' });
    const help = await run(process.execPath, [CLI, '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^trapi: operate the Token Revocation API/);
  });

  it('npm run -s trapi -- runs our CLI from any folder of the checkout, with its exit code and nothing else on stdout', async () => {
    expect(await run('npm', ['run', '-s', 'trapi', '--', '--version'], join(ROOT, 'src', 'cli'))).toMatchObject({ code: 0, stdout: `${pkg.version}\n` });
    expect((await run('npm', ['run', '-s', 'trapi', '--', 'frobnicate'])).code).toBe(2);
  }, 60_000);

  it('the Docker image puts a trapi symlink to dist/src/cli.js on PATH, and the CLI runs through such a link', async () => {
    expect(read('Dockerfile')).toMatch(/^RUN chmod \+x dist\/src\/cli\.js && ln -s \/app\/dist\/src\/cli\.js \/usr\/local\/bin\/trapi$/m);
    expect(readFileSync(CLI, 'utf8').split('\n')[0]).toBe('#!/usr/bin/env node');
    const bin = mkdtempSync(join(tmpdir(), 'trapi-bin-'));
    symlinkSync(CLI, join(bin, 'trapi'));
    expect(await run(process.execPath, [join(bin, 'trapi'), '--version'])).toEqual({ code: 0, stdout: `${pkg.version}\n`, stderr: '' });
  });
});
