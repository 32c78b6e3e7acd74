// `npm start`'s prestart builds only when a source is newer than the last build (scripts/build-if-stale.mjs).
// Run in a scratch copy whose `build` script only counts its runs, so that the test measures the check, not tsc.
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const SCRIPT = join(ROOT, 'scripts', 'build-if-stale.mjs');

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'trapi-prestart-'));
  mkdirSync(join(dir, 'scripts'));
  copyFileSync(SCRIPT, join(dir, 'scripts', 'build-if-stale.mjs'));
  for (const d of ['src', 'providers', 'simulator', 'bench', 'schemas']) mkdirSync(join(dir, d));
  writeFileSync(join(dir, 'src', 'main.ts'), 'export {};\n');
  writeFileSync(join(dir, 'schemas', 'a.schema.json'), '{}\n');
  writeFileSync(join(dir, 'tsconfig.json'), '{}\n');
  // The stand-in build appends a line per run, where tsc would write dist/.
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'x', private: true, scripts: { build: 'node -e "require(\'fs\').mkdirSync(\'dist\',{recursive:true});require(\'fs\').appendFileSync(\'builds.log\',\'built\\n\')"' } }));
  // Every file of the scratch copy is older than anything the test does next.
  const past = new Date(Date.now() - 60_000);
  for (const f of ['src/main.ts', 'schemas/a.schema.json', 'tsconfig.json', 'package.json']) utimesSync(join(dir, f), past, past);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Saves a file now: after the last build started (the stamp's time), so a strictly newer mtime. */
function touch(file: string): void {
  const now = new Date(Date.now() + 5);
  utimesSync(join(dir, file), now, now);
}

function prestart(): { ms: number; stderr: string; builds: number } {
  const started = process.hrtime.bigint();
  const env = { ...process.env };
  delete env['npm_execpath'];
  const r = spawnSync(process.execPath, ['scripts/build-if-stale.mjs'], { cwd: dir, env, encoding: 'utf8' });
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  expect(r.status).toBe(0);
  const log = join(dir, 'builds.log');
  return { ms, stderr: r.stderr, builds: existsSync(log) ? readFileSync(log, 'utf8').split('\n').filter(Boolean).length : 0 };
}

it('is the prestart of package.json', () => {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
  expect(pkg.scripts['prestart']).toBe('node scripts/build-if-stale.mjs');
});

it('builds when there is no build, then not again until a source changes', () => {
  const first = prestart();
  expect(first.builds).toBe(1);
  expect(first.stderr).toMatch(/building \(no build yet\)/);
  expect(existsSync(join(dir, 'dist', '.built'))).toBe(true);

  const again = prestart();
  expect(again.builds).toBe(1); // no build, no tsc
  expect(again.stderr).toBe('');
  expect(again.ms).toBeLessThan(1000);
  console.info(`prestart with nothing to build: ${again.ms.toFixed(0)} ms`);

  // A touched source rebuilds, and says which file.
  touch('src/main.ts');
  const touched = prestart();
  expect(touched.builds).toBe(2);
  expect(touched.stderr).toMatch(/building \(src\/main\.ts changed since the last build\)/);

  // A schema or a tsconfig counts as a source too.
  touch('tsconfig.json');
  expect(prestart().builds).toBe(3);
  expect(prestart().builds).toBe(3);
});
