import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const CLI = fileURLToPath(new URL('../../dist/simulator/cli.js', import.meta.url));

describe('GitLab simulator CLI (npm run gitlab-sim)', () => {
  it('starts on its own, prints its URL and admin token, answers like GitLab, and stops on SIGTERM', async () => {
    const child = spawn(process.execPath, [CLI, '--latency', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    const deadline = Date.now() + 10_000;
    while (!/Admin token: (\S+)/.test(out) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 25));
    const url = /listening on (\S+)/.exec(out)?.[1] ?? '';
    const admin = /Admin token: (\S+)/.exec(out)?.[1] ?? '';
    const res = await fetch(`${url}/api/v4/admin/token`, { method: 'POST', headers: { 'PRIVATE-TOKEN': admin, 'Content-Type': 'application/json' }, body: JSON.stringify({ token: 'glpat-00000000000000000000' }) });
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({ message: { error: 'Not found' } });
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  });
});
