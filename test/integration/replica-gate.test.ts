// "Acknowledged means replicated" on a Redis with no replica: REDIS_MIN_REPLICAS_ACK=1 turns every confirmation
// (an accepted batch, a replay, a resolve, a stored rotation successor) into 503 store_unavailable, while the write
// itself has reached the master; unset, the service confirms at once and warns that the Redis has no replica.
import { randomBytes } from 'node:crypto';
import request from 'supertest';
import { CredentialStore } from '../../src/credentials/store.js';
import { keyFromBase64 } from '../../src/domain/crypto.js';
import { fingerprint } from '../../src/domain/fingerprint.js';
import { NotReplicatedError, ReplicaGate } from '../../src/queue/redis.js';
import { API_TOKEN, ENCRYPTION_KEY, eventually, item, type TestService } from '../support/service.js';
import { useStack } from '../support/stack.js';

const ADMIN = `gate-admin-secret-${randomBytes(12).toString('hex')}`;

const stack = useStack({ service: false });
afterAll(() => stack.gitlab.faults.clear());

const noReplicaWarning = (svc: TestService) => svc.logs.records().filter((r) => String(r['msg']).startsWith('Redis has no replica'));
const ackSetting = (svc: TestService) => svc.logs.records().find((r) => String(r['msg']).includes('REDIS_MIN_REPLICAS_ACK'))?.['minReplicasAck'];

describe('REDIS_MIN_REPLICAS_ACK unset, on a Redis without a replica', () => {
  it('confirms at once (0 replicas) and warns at start-up that the Redis has no replica', async () => {
    const svc = await stack.startService();
    try {
      expect(ackSetting(svc)).toBe(0);
      expect(noReplicaWarning(svc)).toHaveLength(1);
      const token = stack.gitlab.createToken('personal_access_token');
      expect((await request(svc.url).post('/v1/revoke_tokens').set('Authorization', API_TOKEN).send([item(token)])).status).toBe(204);
      await eventually(() => stack.gitlab.stateOf(token) === 'revoked', 'the token revoked');
    } finally {
      await svc.stop();
    }
  });
});

describe('REDIS_MIN_REPLICAS_ACK=1 on a Redis without a replica', () => {
  let svc: TestService;
  beforeAll(async () => {
    svc = await stack.startService({ REDIS_MIN_REPLICAS_ACK: '1', STRATEGY_ORDER: 'admin', ADMIN_API_TOKENS: `oncall:${ADMIN}` });
  });
  const admin = (path: string, body: object) => request(svc.url).post(path).set('Authorization', `Bearer ${ADMIN}`).send(body);

  it('answers a batch 503 store_unavailable within the deadline, never 204, and on-call replays and resolves 503 too', async () => {
    expect(ackSetting(svc)).toBe(1);
    stack.gitlab.faults.failUntilCleared(400, { method: 'DELETE', body: { message: { error: 'Cannot revoke' } } });
    const tokens = [stack.gitlab.createToken('personal_access_token'), stack.gitlab.createToken('personal_access_token')];
    const started = Date.now();
    const res = await request(svc.url).post('/v1/revoke_tokens').set('Authorization', API_TOKEN).send(tokens.map((t) => item(t)));
    expect(res.status).toBe(503);
    expect(res.body.error).toBe('store_unavailable');
    expect(Date.now() - started).toBeLessThan(3000); // the WAIT gives up after 1.5 s, inside the 5 s deadline
    // Not confirmed is not "not written": the job reached the master and is worked on (GitLab's resend is absorbed).
    await eventually(async () => (await stack.queue.getFailedCount()) === 2, 'both tokens in the failed set', 30_000);
    stack.gitlab.faults.clear();

    const [first, second] = tokens.map((t) => fingerprint(t).slice(0, 16));
    const replay = await admin('/admin/replay', { fingerprint: first });
    expect(replay.status).toBe(503);
    expect(replay.body.error).toBe('store_unavailable');
    const resolve = await admin(`/admin/tokens/${second}/resolve`, { reason: 'revoked by hand in the GitLab UI' });
    expect(resolve.status).toBe(503);
    expect(resolve.body.error).toBe('store_unavailable');
  });
});

describe('the credential store with a gate', () => {
  it('counts a stored successor only once replicated; other fenced writes need no replica', async () => {
    const client = stack.client;
    const store = new CredentialStore(client, () => [keyFromBase64(ENCRYPTION_KEY)], new ReplicaGate(client, 1));
    const name = 'gate-test:admin';
    const lock = await store.lock(name, 5000);
    expect(lock).toBeDefined();
    expect(await store.fenced(name, lock!, undefined, { intent: JSON.stringify({ fence: lock!.fence, at: new Date().toISOString() }) })).toBe(true);
    await expect(store.fenced(name, lock!, undefined, { candidate: store.seal(name, 'glpat-successor-xxxxxxxxxx') })).rejects.toThrow(NotReplicatedError);
    const alone = new CredentialStore(client, () => [keyFromBase64(ENCRYPTION_KEY)], new ReplicaGate(client, 0));
    expect(await alone.fenced(name, lock!, undefined, { candidate: store.seal(name, 'glpat-successor-xxxxxxxxxx') })).toBe(true);
  });
});
