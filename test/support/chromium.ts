// Headless Chromium driven over the DevTools protocol on a pipe (--remote-debugging-pipe: no port, no WebSocket),
// for tests that need a real browser. Every host name but 127.0.0.1 fails to resolve, so no test reaches the
// internet, while the attempt still shows in the Network events.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable, Writable } from 'node:stream';

const CANDIDATES = ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'];

/** CHROMIUM_PATH if set (and only it), else the first of the usual places; undefined when it does not exist. */
export function findChromium(): string | undefined {
  const given = process.env['CHROMIUM_PATH'];
  return (given ? [given] : CANDIDATES).find((p) => existsSync(p));
}

export interface CdpEvent {
  readonly method: string;
  readonly params: Record<string, unknown>;
  readonly sessionId?: string;
}

export interface Browser {
  /** Sends one command (to a page when `sessionId` is given) and resolves with its result. */
  send(method: string, params?: Record<string, unknown>, sessionId?: string): Promise<Record<string, unknown>>;
  /** Every event received so far, in order. */
  readonly events: CdpEvent[];
  close(): Promise<void>;
}

/** The flags every headless run here needs (as root, on a closed network); the host rule lets only 127.0.0.1 resolve. */
export const HEADLESS_FLAGS: readonly string[] = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  // Nothing but the test's own server resolves: a request to another host is seen, never sent.
  '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1',
];

const FLAGS = [...HEADLESS_FLAGS, '--disable-dev-shm-usage', '--disable-extensions', '--remote-debugging-pipe'];

export async function launchChromium(path: string): Promise<Browser> {
  const profile = mkdtempSync(join(tmpdir(), 'trapi-chromium-'));
  // fd 3: commands to the browser; fd 4: its answers and events, each message ended by a NUL byte.
  const child: ChildProcess = spawn(path, [...FLAGS, `--user-data-dir=${profile}`, 'about:blank'], { stdio: ['ignore', 'ignore', 'pipe', 'pipe', 'pipe'] });
  const stderr: string[] = [];
  child.stderr?.on('data', (c: Buffer) => stderr.push(c.toString('utf8')));
  const toBrowser = child.stdio[3] as Writable;
  const fromBrowser = child.stdio[4] as Readable;
  const pending = new Map<number, { resolve: (r: Record<string, unknown>) => void; reject: (e: Error) => void }>();
  const events: CdpEvent[] = [];
  let nextId = 1;
  let buffered = '';
  fromBrowser.on('data', (chunk: Buffer) => {
    buffered += chunk.toString('utf8');
    let end: number;
    while ((end = buffered.indexOf('\0')) !== -1) {
      const msg = JSON.parse(buffered.slice(0, end)) as { id?: number; result?: Record<string, unknown>; error?: { message: string }; method?: string; params?: Record<string, unknown>; sessionId?: string };
      buffered = buffered.slice(end + 1);
      if (msg.id !== undefined) {
        const p = pending.get(msg.id);
        pending.delete(msg.id);
        if (msg.error) p?.reject(new Error(`CDP error: ${msg.error.message}`));
        else p?.resolve(msg.result ?? {});
      } else if (msg.method) events.push({ method: msg.method, params: msg.params ?? {}, ...(msg.sessionId ? { sessionId: msg.sessionId } : {}) });
    }
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  void exited.then(() => {
    for (const p of pending.values()) p.reject(new Error(`chromium exited: ${stderr.join('').slice(-2000)}`));
    pending.clear();
  });

  const send: Browser['send'] = (method, params = {}, sessionId) =>
    new Promise((resolve, reject) => {
      const id = nextId++;
      pending.set(id, { resolve, reject });
      toBrowser.write(`${JSON.stringify({ id, method, params, ...(sessionId ? { sessionId } : {}) })}\0`);
    });

  // The first answer says the browser is up.
  await send('Browser.getVersion');
  return {
    send,
    events,
    close: async () => {
      await Promise.race([send('Browser.close').catch(() => undefined), new Promise((r) => setTimeout(r, 3000))]);
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
      // The pipes would otherwise keep the test process alive.
      for (const stream of [toBrowser, fromBrowser, child.stderr]) stream?.destroy();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
