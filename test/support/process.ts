// Runs the built service (dist/src/main.js) as a real child process, as an admin would, and reads its output.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const MAIN = fileURLToPath(new URL('../../dist/src/main.js', import.meta.url));

export interface ServiceProcess {
  readonly child: ChildProcess;
  readonly stdout: string[];
  /** JSON log lines (pino writes them to stdout). */
  logs(): Record<string, unknown>[];
  /** Resolves with the URL once the service logs that it started. */
  started(timeoutMs?: number): Promise<string>;
  exited(): Promise<number | null>;
}

const children = new Set<ChildProcess>();

/** For afterAll: a failed test must not leave a service (and its embedded Redis) running. */
export async function killAll(): Promise<void> {
  await Promise.all(
    [...children].filter((c) => c.exitCode === null && c.signalCode === null).map((c) => new Promise((r) => {
      c.once('exit', r);
      c.kill('SIGKILL');
    })),
  );
  children.clear();
}

export function spawnService(env: NodeJS.ProcessEnv): ServiceProcess {
  if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing: run \`npm run build\` first (npm test does)`);
  const child = spawn(process.execPath, [MAIN], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  const stdout: string[] = [];
  let buffered = '';
  const onData = (chunk: Buffer) => {
    buffered += chunk.toString('utf8');
    const lines = buffered.split('\n');
    buffered = lines.pop() ?? '';
    stdout.push(...lines);
  };
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);
  const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const logs = () =>
    stdout.flatMap((l) => {
      try {
        return [JSON.parse(l) as Record<string, unknown>];
      } catch {
        return [];
      }
    });
  return {
    child,
    stdout,
    logs,
    exited: () => exit,
    started: async (timeoutMs = 20_000) => {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const line = logs().find((r) => r['msg'] === 'token revocation service started');
        if (line) return String(line['url']);
        if (child.exitCode !== null || Date.now() > deadline) throw new Error(`service did not start:\n${stdout.join('\n')}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
  };
}
