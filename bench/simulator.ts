// The GitLab simulator as a child process (its own event loop, so the bench's polling cannot slow its answers), driven through /-/sim/.
import { fileURLToPath } from 'node:url';
import type { CallRecord, RevocationEntry, TokenKind } from '../simulator/index.js';
import { spawnChild, type Child } from './processes.js';

/** dist/simulator/cli.js, next to this file's dist/bench/. */
const CLI = fileURLToPath(new URL('../simulator/cli.js', import.meta.url));

export interface BenchSimulator {
  readonly url: string;
  readonly adminToken: string;
  readonly child: Child;
  /** Seeds `count` new active tokens of `kind` and returns them. */
  makeTokens(kind: TokenKind, count: number): Promise<string[]>;
  /** Per-route counters keyed `METHOD route status` (cheap: safe to poll). */
  counters(): Promise<{ total: number; counters: Record<string, number> }>;
  /** The calls the ring still holds, optionally for one route. */
  calls(route?: string): Promise<{ total: number; held: number; limit: number; calls: CallRecord[] }>;
  revoked(): Promise<RevocationEntry[]>;
}

export async function startSimulator(latencyMs: number, callLogLimit: number): Promise<BenchSimulator> {
  const child = spawnChild('gitlab-simulator', process.execPath, [CLI, '--latency', String(latencyMs), '--call-log-limit', String(callLogLimit)], {
    ...(process.env['PATH'] === undefined ? {} : { PATH: process.env['PATH'] }),
    NODE_ENV: 'production',
  });
  const url = await child.waitForLine((l) => /^GitLab simulator listening on (\S+)$/.exec(l)?.[1], 10_000);
  const adminToken = await child.waitForLine((l) => /^Admin token: (\S+)$/.exec(l)?.[1], 5_000);

  const control = async <T>(method: string, path: string, body?: unknown): Promise<T> => {
    const res = await fetch(`${url}/-/sim/${path}`, {
      method,
      ...(body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
    });
    if (!res.ok) throw new Error(`simulator ${method} /-/sim/${path}: ${res.status} ${await res.text()}`);
    return (await res.json()) as T;
  };

  return {
    url,
    adminToken,
    child,
    makeTokens: async (kind, count) => (await control<{ tokens: string[] }>('POST', 'tokens/make', { kind, count })).tokens,
    counters: () => control('GET', 'counters'),
    calls: (route) => control('GET', `calls${route === undefined ? '' : `?route=${encodeURIComponent(route)}`}`),
    revoked: async () => (await control<{ revoked: RevocationEntry[] }>('GET', 'revoked')).revoked,
  };
}
