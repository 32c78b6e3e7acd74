import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import request from 'supertest';
import { fingerprint } from '../../src/domain/fingerprint.js';
import { startGitLabSimulator, type GitLabSimulator } from '../../simulator/index.js';
import { failedReasonOf, inspectQueue } from '../support/queue.js';
import { dumpRedis } from '../support/redis-scan.js';
import { startTestRedis, type TestRedis } from '../support/redis.js';
import { API_TOKEN, ENCRYPTION_KEY, eventually, item, startTestService, type TestService } from '../support/service.js';

let redis: TestRedis;
let client: Redis;
let queue: Queue;
let sim: GitLabSimulator;
const services: TestService[] = [];

beforeAll(async () => {
  redis = await startTestRedis();
  client = redis.client();
  queue = inspectQueue(redis.url);
  sim = await startGitLabSimulator();
});
afterAll(async () => {
  for (const s of services) await s.stop();
  await queue?.close();
  await sim?.stop();
  await redis?.stop();
});

describe('secrets after a full run', () => {
  it('appear in no Redis key or value, no log line and no answer; revoked tokens leave no ciphertext', async () => {
    const api = await startTestService(redis.url, sim.url, sim.adminToken, { ROLE: 'api' });
    services.push(api);
    const revoked = [sim.createToken('personal_access_token'), sim.createToken('runner_authentication_token'), sim.createToken('personal_access_token')];
    const failing = sim.createToken('personal_access_token');
    const unsupported = 'GR1348941SecretRegistrationTok';
    const answers = [
      await request(api.url).post('/v1/revoke_tokens').set('Authorization', API_TOKEN).send([item(revoked[0] ?? ''), item(revoked[1] ?? '', 'gitleaks_rule_id_gitlab_runner_auth_token')]),
      await request(api.url).post('/v1/revoke_tokens').set('Authorization', `Bearer ${API_TOKEN}`).send([item(revoked[2] ?? ''), item(unsupported, 'gitleaks_rule_id_gitlab_runner_registration_token')]),
      await request(api.url).post('/v1/revoke_tokens').set('Authorization', 'wrong-secret-but-logged?').send([item(failing)]),
      await request(api.url).post('/v1/revoke_tokens').set('Authorization', API_TOKEN).set('Content-Type', 'application/json').send(`[{"type":"x","token":"${failing}"`),
    ];
    expect(answers.map((a) => a.status)).toEqual([204, 400, 401, 400]);

    // While queued, the intake jobs hold ciphertext only; remember it to prove it is gone once they are processed.
    const intake = inspectQueue(redis.url, 'intake');
    const sealedBatches = (await intake.getWaiting()).map((j) => String(j.data.sealed));
    await intake.close();
    expect(sealedBatches).toHaveLength(2);
    for (const s of sealedBatches) expect(s).toMatch(/^v1\./);

    const worker = await startTestService(redis.url, sim.url, sim.adminToken, { ROLE: 'worker' });
    services.push(worker);
    await eventually(() => revoked.every((t) => sim.stateOf(t) !== 'active'), 'all revoked');
    sim.faults.failUntilCleared(400, { method: 'DELETE', body: { message: { error: 'Cannot revoke' } } });
    await request(api.url).post('/v1/revoke_tokens').set('Authorization', API_TOKEN).send([item(failing)]).expect(204);
    await eventually(async () => (await failedReasonOf(queue, failing)) !== undefined, 'failing token in the failed set');
    sim.faults.clear();

    const dump = await dumpRedis(client);
    const secrets = { ...Object.fromEntries([...revoked, failing, unsupported].map((t, i) => [`token ${i}`, t])), sharedSecret: API_TOKEN, adminToken: sim.adminToken, encryptionKey: ENCRYPTION_KEY };
    const logs = [...api.logs.lines, ...worker.logs.lines].join('\n');
    const bodies = answers.map((a) => a.text).join('\n');
    for (const [name, secret] of Object.entries(secrets)) {
      expect({ name, inRedis: dump.includes(Buffer.from(secret)) }).toEqual({ name, inRedis: false });
      expect({ name, inLogs: logs.includes(secret) }).toEqual({ name, inLogs: false });
      expect({ name, inAnswers: bodies.includes(secret) }).toEqual({ name, inAnswers: false });
    }
    for (const s of sealedBatches) expect(dump.includes(Buffer.from(s))).toBe(false);
    // Only the failed job (kept for replay) may still hold a ciphertext: every revoked token's is gone.
    const ciphertexts = dump.toString('latin1').match(/v1\.[0-9a-f]{8}\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+/g) ?? [];
    expect(ciphertexts).toHaveLength(1);
    expect(String((await queue.getJob(fingerprint(failing)))?.data.sealed)).toBe(ciphertexts[0]);
    expect(logs).toContain(fingerprint(revoked[0] ?? '').slice(0, 12)); // logs name tokens by fingerprint prefix
  });

  it('redacts a token or credential that reaches a log call by mistake', async () => {
    const { captureLogs } = await import('../support/logs.js');
    const logs = captureLogs();
    logs.logger.info({ token: 'glpat-LeakedByMistake000', headers: { authorization: 'secret-h' }, job: { sealed: 'v1.abc', token: 'glpat-Nested00000000000' } }, 'oops');
    const line = logs.lines.join('\n');
    for (const s of ['glpat-LeakedByMistake000', 'secret-h', 'v1.abc', 'glpat-Nested00000000000']) expect(line).not.toContain(s);
    expect(line).toContain('[redacted]');
  });
});
