// Behind Redis Sentinel (a master, one replica, three sentinels, real processes): "acknowledged means replicated"
// (the WAIT gate answers 503 while the replica is down), and a SIGKILLed master under load of GitLab-shaped batches,
// followed by an API and a worker process without a restart, with every token answered 204 revoked exactly once.
import { Redis } from 'ioredis';
import request from 'supertest';
import { startGitLabSimulator, type GitLabSimulator } from '../../simulator/index.js';
import { main } from '../../src/cli.js';
import { loadConfig } from '../../src/config/index.js';
import { fingerprint } from '../../src/domain/fingerprint.js';
import { NotReplicatedError, ReplicaGate } from '../../src/queue/redis.js';
import { startService, type Service } from '../../src/service.js';
import { allRevoked, revocationsPerToken, sendInBatches } from '../support/ha-load.js';
import { captureLogs, type CapturedLogs } from '../support/logs.js';
import { killAll, spawnService } from '../support/process.js';
import { startSentinelGroup, type SentinelGroup } from '../support/redis-ha.js';
import { API_TOKEN, eventually, item, testEnv } from '../support/service.js';

let group: SentinelGroup;
let sim: GitLabSimulator;

beforeAll(async () => {
  [group, sim] = await Promise.all([startSentinelGroup(), startGitLabSimulator()]);
});
afterAll(async () => {
  await killAll();
  await sim?.stop();
  await group?.stop();
});

/** The test environment pointed at the sentinels instead of REDIS_URL. */
function sentinelEnv(extra: Record<string, string> = {}): Record<string, string | undefined> {
  const env: Record<string, string | undefined> = { ...testEnv('redis://unused', sim.url, sim.adminToken, extra), REDIS_SENTINELS: group.sentinels.map((s) => `${s.host}:${s.port}`).join(','), REDIS_SENTINEL_MASTER: group.name };
  delete env['REDIS_URL'];
  return env;
}

const post = (url: string, tokens: readonly string[]) => request(url).post('/v1/revoke_tokens').set('Authorization', API_TOKEN).send(tokens.map((t) => item(t)));

describe('the WAIT gate', () => {
  let svc: Service;
  let logs: CapturedLogs;
  beforeAll(async () => {
    logs = captureLogs();
    svc = await startService(loadConfig(sentinelEnv()), logs.logger);
  });
  afterAll(async () => {
    await svc?.stop();
  });

  it('shares WAITs between concurrent confirmations: one WAIT covers every earlier write on its connection', async () => {
    const client = new Redis({ host: group.master.host, port: group.master.port });
    try {
      const waits = async () => Number(/cmdstat_wait:calls=(\d+)/.exec(await client.info('commandstats'))?.[1] ?? 0);
      const gate = new ReplicaGate(client, 1);
      const before = await waits();
      await Promise.all(Array.from({ length: 50 }, async (_, i) => {
        await client.set(`gate-test:${i}`, 'x');
        await gate.confirm();
      }));
      const sent = (await waits()) - before;
      expect(sent).toBeGreaterThan(0);
      expect(sent).toBeLessThan(10);

      // A write made before the connection was re-established is not confirmed: the new connection's WAIT cannot see it.
      const epoch = gate.epoch;
      await client.set('gate-test:before-reconnect', 'x');
      client.disconnect(true);
      await eventually(() => client.status === 'ready', 'reconnected');
      await expect(gate.confirm(1000, epoch)).rejects.toThrow(NotReplicatedError);
      await expect(gate.confirm()).resolves.toBeUndefined();
    } finally {
      client.disconnect();
    }
  });

  it('waits for the replica by default when the master has one; with the replica down a POST answers 503 within the deadline, never 204; 204 again once it is back', async () => {
    expect(logs.records().find((r) => String(r['msg']).includes('REDIS_MIN_REPLICAS_ACK'))?.['minReplicasAck']).toBe(1);
    expect(logs.records().some((r) => String(r['msg']).includes('Redis has no replica'))).toBe(false);
    expect((await post(svc.url, [sim.createToken('personal_access_token')])).status).toBe(204);

    await group.replica.stop();
    const token = sim.createToken('personal_access_token');
    for (let i = 0; i < 3; i++) {
      const started = Date.now();
      const res = await post(svc.url, [token]);
      const elapsed = Date.now() - started;
      expect(res.status).toBe(503);
      expect(res.body.error).toBe('store_unavailable');
      expect(res.headers['retry-after']).toBeDefined();
      expect(elapsed).toBeLessThan(5000); // the producer's deadline; the WAIT itself gives up after 1.5 s
    }
    // Readiness is about reaching a master, not about its replicas.
    expect((await request(svc.url).get('/-/readiness')).status).toBe(200);

    await group.replica.start();
    await group.ready();
    await eventually(async () => (await post(svc.url, [token])).status === 204, '204 once the replica is back', 20_000);
    await eventually(() => sim.stateOf(token) === 'revoked', 'the resent token revoked');
  });
});

describe('a master failover under load', () => {
  it('follows the promoted replica without a restart; every token answered 204 is revoked exactly once, none failed', async () => {
    const env = { ...process.env, ...sentinelEnv({ RATE_LIMIT_PER_MINUTE: '1000000', WORKER_CONCURRENCY: '32', LOG_LEVEL: 'info' }) };
    const worker = spawnService({ ...env, ROLE: 'worker' });
    const api = spawnService({ ...env, ROLE: 'api' });
    const [workerUrl, url] = await Promise.all([worker.started(), api.started()]);
    await group.waitForReplicaSync();
    // The worker's readiness, sampled through the failover: not ready only while it reaches no master.
    const readiness: { at: number; status: number }[] = [];
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        readiness.push({ at: Date.now(), status: await request(workerUrl).get('/-/readiness').timeout(3000).then((r) => r.status, () => 0) });
        await new Promise((r) => setTimeout(r, 100));
      }
    })();

    const tokens = Array.from({ length: 5000 }, () => sim.createToken('personal_access_token'));
    const old = await group.currentMaster();
    let failover: Promise<{ killedAt: number; promotedAt: number; rejoinedAt: number }> | undefined;
    const started = Date.now();
    const report = await sendInBatches(url, tokens, {
      batchSize: 100,
      senders: 4,
      onAccepted: (n) => {
        if (n < 2000 || failover) return;
        failover = (async () => {
          const killedAt = Date.now();
          await group.master.stop(); // SIGKILL
          const promoted = await group.waitForNewMaster(old);
          const promotedAt = Date.now();
          // As an operator would: the old node comes back as a replica of the new master. Needed here: with
          // REDIS_MIN_REPLICAS_ACK at 1 the new master has no replica to acknowledge until then. (Restarted as it was,
          // a master, the sentinels would convert it too, but only at their next look at it: up to 10 s later.)
          await group.master.start(['--replicaof', promoted.host, String(promoted.port)]);
          await group.ready();
          return { killedAt, promotedAt, rejoinedAt: Date.now() };
        })();
      },
    });
    const acceptedMs = Date.now() - started;
    expect(failover).toBeDefined();
    const times = await failover!;
    await eventually(async () => readiness.at(-1)?.status === 200, 'the worker ready again', 20_000);
    sampling = false;
    await sampler;
    const notReady = readiness.filter((r) => r.status !== 200);
    const notReadyMs = notReady.length === 0 ? 0 : notReady.at(-1)!.at - notReady[0]!.at;

    expect(new Set(report.accepted).size).toBe(tokens.length);
    const { at99, atAll } = await allRevoked(sim, tokens);
    const revokedMs = atAll - started;
    const counts = revocationsPerToken(sim);
    const notOnce = tokens.filter((t) => counts.get(t) !== 1);
    expect(notOnce).toEqual([]);

    // Nothing failed, and both processes are the ones started before the failover.
    const master = new Redis({ sentinels: group.sentinels.map((s) => ({ ...s })), name: group.name, lazyConnect: true });
    try {
      await master.connect();
      expect(await master.zcard('trapi:revocations:failed')).toBe(0);
    } finally {
      master.disconnect();
    }
    expect(worker.child.exitCode).toBeNull();
    expect(api.child.exitCode).toBeNull();
    await eventually(async () => (await request(url).get('/-/readiness')).status === 200, 'the API ready');
    // The CLI finds the promoted master through the sentinels too, and a record by its short fingerprint (a SCAN).
    let out = '';
    const io = { stdout: { write: (t: string) => (out += t) }, stderr: { write: () => true }, stdin: process.stdin, env: { ...sentinelEnv(), LOG_LEVEL: 'warn' } };
    expect(await main(['show', fingerprint(tokens[0]!).slice(0, 16), '--json'], io)).toBe(0);
    expect((JSON.parse(out) as { state: string }).state).toBe('revoked');

    const non2xx = report.answers.filter((a) => a.status < 200 || a.status >= 300).length;
    console.log(
      `sentinel failover: ${tokens.length} tokens in ${Math.ceil(tokens.length / 100)} batches, all accepted in ${acceptedMs} ms, 99% revoked in ${at99 - started} ms, all in ${revokedMs} ms; ` +
        `${report.answers.length} answers, ${non2xx} non-2xx; longest non-2xx stretch ${report.longestOutage.ms} ms (${report.longestOutage.answers} answers); ` +
        `master killed -> replica promoted ${times.promotedAt - times.killedAt} ms, -> old master rejoined as replica ${times.rejoinedAt - times.killedAt} ms; ` +
        `the worker not ready in ${notReady.length} of ${readiness.length} samples, over ${notReadyMs} ms`,
    );
    worker.child.kill('SIGTERM');
    api.child.kill('SIGTERM');
    expect(await worker.exited()).toBe(0);
    expect(await api.exited()).toBe(0);
  }, 240_000);
});
