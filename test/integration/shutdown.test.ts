// SIGTERM while Redis cannot be reached: the real service process exits shortly after its grace period, not never.
import { freePort } from '../../src/runtime/free-port.js';
import { killAll, spawnService } from '../support/process.js';
import { testEnv } from '../support/service.js';

afterAll(killAll);

describe('shutdown with Redis unreachable', () => {
  it('exits within SHUTDOWN_TIMEOUT_SECONDS plus a few seconds of SIGTERM', async () => {
    const closedPort = await freePort(); // nothing listens there: every connection is refused
    const env = {
      PATH: process.env['PATH'],
      ...testEnv(`redis://127.0.0.1:${closedPort}`, 'http://127.0.0.1:9', 'glpat-unused-admin-token-0123'),
      SHUTDOWN_TIMEOUT_SECONDS: '2',
      LOG_LEVEL: 'info',
    };
    const proc = spawnService(env);
    await proc.started(30_000); // it starts anyway (answering 503), after its connect timeout
    const signalledAt = Date.now();
    proc.child.kill('SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    const exited = await Promise.race([proc.exited().then(() => true), new Promise<false>((r) => (timer = setTimeout(() => r(false), 8000)))]);
    clearTimeout(timer);
    const tookMs = Date.now() - signalledAt;
    process.stdout.write(`shutdown took ${tookMs} ms\n`);
    expect({ exited, within8s: tookMs < 8000 }).toEqual({ exited: true, within8s: true });
    expect(proc.logs().some((r) => r['msg'] === 'stopping: no new requests or jobs; finishing in-flight work')).toBe(true);
    // The grace period was given: it did not just drop everything at the signal.
    expect(tookMs).toBeGreaterThanOrEqual(2000);
  }, 60_000);
});
