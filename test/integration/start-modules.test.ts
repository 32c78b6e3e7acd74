// What every process loads at start (all that dist/src/service.js reaches by static imports): not Bull Board, which only
// the admin surface serves, on its first request (src/http/admin/board.ts).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const SERVICE = new URL('../../dist/src/service.js', import.meta.url);

/** In a fresh node: the URL of every module that importing `url` loads. */
const RECORD = `
import { registerHooks } from 'node:module';
const loaded = [];
registerHooks({ resolve: (specifier, context, next) => { const r = next(specifier, context); loaded.push(r.url); return r; } });
await import(process.argv[1]);
process.stdout.write(JSON.stringify(loaded));
`;

function modulesLoadedBy(url: URL): string[] {
  if (!existsSync(url)) throw new Error(`${url.pathname} is missing: run \`npm run build\` first (npm test does)`);
  const run = spawnSync(process.execPath, ['--input-type=module', '-e', RECORD, url.href], { encoding: 'utf8', env: { PATH: process.env['PATH'] }, timeout: 20_000 });
  if (run.status !== 0) throw new Error(`node exited ${run.status}: ${run.stderr}`);
  return JSON.parse(run.stdout) as string[];
}

describe('modules loaded at start', () => {
  it('importing the service loads its packages (the check sees them) but no @bull-board module', () => {
    const loaded = modulesLoadedBy(SERVICE);
    expect(loaded.some((u) => u.includes('/node_modules/express/'))).toBe(true);
    expect(loaded.some((u) => u.includes('/node_modules/bullmq/'))).toBe(true);
    expect(loaded.filter((u) => u.includes('/node_modules/@bull-board/'))).toEqual([]);
  });
});
