#!/usr/bin/env node
// prestart: builds dist/ only when a source is newer than the last build (dist/.built), so that `npm start` on an
// up-to-date checkout starts at once instead of spending ~11 s in tsc. Prints why it builds, and nothing otherwise.
import { spawnSync } from 'node:child_process';
import process from 'node:process';
import { readdirSync, statSync, utimesSync, writeFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const stamp = join(root, 'dist', '.built');
/** What the build reads: the compiled folders, the schemas and every tsconfig, package.json and its lock. */
const SOURCES = ['src', 'providers', 'simulator', 'bench', 'schemas'];
const FILES = ['tsconfig.json', 'tsconfig.build.json', 'package.json', 'package-lock.json'];

/** The newest modification time under `path` (a file or a folder), with the file that has it. */
function newest(path, best = { ms: 0, path: '' }) {
  let st;
  try {
    st = statSync(path);
  } catch {
    return best;
  }
  if (st.isDirectory()) {
    for (const name of readdirSync(path)) best = newest(join(path, name), best);
    return best;
  }
  return st.mtimeMs > best.ms ? { ms: st.mtimeMs, path } : best;
}

function builtAt() {
  try {
    return statSync(stamp).mtimeMs;
  } catch {
    return undefined;
  }
}

let latest = { ms: 0, path: '' };
for (const p of [...SOURCES, ...FILES]) latest = newest(join(root, p), latest);
const built = builtAt();
if (built !== undefined && latest.ms <= built) process.exit(0);

const why = built === undefined ? 'no build yet' : `${latest.path.slice(root.length + 1)} changed since the last build`;
process.stderr.write(`prestart: building (${why})\n`);
const started = Date.now();
const npm = process.env['npm_execpath'];
const result = npm ? spawnSync(process.execPath, [npm, 'run', '-s', 'build'], { cwd: root, stdio: 'inherit' }) : spawnSync('npm', ['run', '-s', 'build'], { cwd: root, stdio: 'inherit' });
if (result.status !== 0) process.exit(result.status ?? 1);
// The stamp carries the time the build started: a source saved during the build makes the next start rebuild.
mkdirSync(dirname(stamp), { recursive: true });
writeFileSync(stamp, `${new Date(started).toISOString()}\n`);
utimesSync(stamp, new Date(started), new Date(started));
process.stderr.write(`prestart: built in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
