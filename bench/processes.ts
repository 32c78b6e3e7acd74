// Child processes of the bench (Redis, service, bare server, worker, GitLab simulator) and the cleanup that stops them on any exit path.
import { spawn, type ChildProcess } from 'node:child_process';

export interface Child {
  readonly name: string;
  readonly proc: ChildProcess;
  /** The last lines it printed, for error messages. */
  tail(): string;
  /** Resolves with the first output line (past or future) that `pick` maps to a value; rejects if it exits first or on timeout. */
  waitForLine<T>(pick: (line: string) => T | undefined, timeoutMs: number): Promise<T>;
}

const live = new Set<ChildProcess>();
const syncCleanups: (() => void)[] = [];

/** Spawns with stdout/stderr drained into a small buffer, so a chatty child never blocks on a full pipe. */
export function spawnChild(name: string, command: string, args: readonly string[], env: NodeJS.ProcessEnv = process.env): Child {
  const proc = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  live.add(proc);
  proc.once('exit', () => live.delete(proc));
  const lines: string[] = [];
  const listeners = new Set<(line: string) => void>();
  let partial = '';
  const onData = (chunk: Buffer) => {
    const parts = (partial + chunk.toString('utf8')).split('\n');
    partial = parts.pop() ?? '';
    for (const line of parts) {
      lines.push(line);
      if (lines.length > 200) lines.shift();
      for (const l of listeners) l(line);
    }
  };
  proc.stdout?.on('data', onData);
  proc.stderr?.on('data', onData);
  return {
    name,
    proc,
    tail: () => lines.slice(-30).join('\n'),
    waitForLine: <T>(pick: (line: string) => T | undefined, timeoutMs: number) =>
      new Promise<T>((resolve, reject) => {
        const done = (err: Error | undefined, value?: T) => {
          clearTimeout(timer);
          listeners.delete(onLine);
          proc.off('exit', onExit);
          proc.off('error', onError);
          if (err) reject(err);
          else resolve(value as T);
        };
        const onLine = (line: string) => {
          const v = pick(line);
          if (v !== undefined) done(undefined, v);
        };
        const onExit = (code: number | null, signal: string | null) =>
          done(new Error(`${name} exited (code ${code}, signal ${signal}) before it was ready:\n${lines.join('\n')}`));
        const onError = (err: Error) => done(new Error(`${name} could not start: ${err.message}`));
        const timer = setTimeout(() => done(new Error(`${name} not ready after ${timeoutMs} ms:\n${lines.join('\n')}`)), timeoutMs);
        listeners.add(onLine);
        proc.once('exit', onExit);
        proc.once('error', onError);
        for (const line of lines) {
          const v = pick(line);
          if (v !== undefined) return done(undefined, v);
        }
        if (proc.exitCode !== null || proc.signalCode !== null) onExit(proc.exitCode, proc.signalCode);
      }),
  };
}

/** Registers something (a temp dir) to remove synchronously, even from the process 'exit' handler. */
export function onCleanup(fn: () => void): void {
  syncCleanups.push(fn);
}

/** SIGTERM one process, SIGKILL it if still running after `graceMs`; resolves once it has exited. */
function stopProc(proc: ChildProcess, graceMs: number): Promise<void> {
  return new Promise<void>((resolve) => {
    if (proc.exitCode !== null || proc.signalCode !== null) return resolve();
    const timer = setTimeout(() => proc.kill('SIGKILL'), graceMs);
    proc.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    proc.kill('SIGTERM');
  });
}

/** Stops one child (e.g. the POST section's targets, so they do not compete with a later section for the CPUs). */
export function stopChild(child: Child, graceMs = 3000): Promise<void> {
  return stopProc(child.proc, graceMs);
}

/** SIGTERM every child still running, SIGKILL what is left after `graceMs`, then run the registered cleanups. */
export async function stopAll(graceMs = 3000): Promise<void> {
  await Promise.all([...live].map((proc) => stopProc(proc, graceMs)));
  runSyncCleanups();
}

function runSyncCleanups(): void {
  for (const fn of syncCleanups.splice(0).reverse()) {
    try {
      fn();
    } catch {
      // best effort: one failed cleanup must not keep the others from running
    }
  }
}

// Last resort (uncaught exception, process.exit elsewhere): nothing async can run here, so SIGKILL.
process.on('exit', () => {
  for (const proc of live) proc.kill('SIGKILL');
  runSyncCleanups();
});
