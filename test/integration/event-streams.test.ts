// BullMQ's event streams are bookkeeping nobody reads: bounded to QUEUE_STREAMS's length, not BullMQ's 10,000.
import request from 'supertest';
import { KEY_PREFIX, QUEUE_STREAMS } from '../../src/queue/jobs.js';
import { API_TOKEN, eventually, item } from '../support/service.js';
import { useStack } from '../support/stack.js';

const stack = useStack();

describe('BullMQ event streams', () => {
  it('keep at most about QUEUE_STREAMS.events.maxLen entries, however many tokens went through', async () => {
    const tokens = Array.from({ length: 600 }, () => stack.gitlab.createToken('personal_access_token'));
    for (let i = 0; i < tokens.length; i += 100) {
      const res = await request(stack.replica(0).url).post('/v1/revoke_tokens').set('Authorization', API_TOKEN).send(tokens.slice(i, i + 100).map((t) => item(t)));
      expect(res.status).toBe(204);
    }
    await eventually(() => stack.gitlab.revokedTokens().length >= tokens.length, 'every token revoked', 60_000);
    const client = stack.redis.client();
    const { maxLen } = QUEUE_STREAMS.events;
    expect(await client.hget(`${KEY_PREFIX}:revocations:meta`, 'opts.maxLenEvents')).toBe(String(maxLen));
    // Each job adds several events (added, active, completed...): 600 tokens make some 2,000. Redis trims a stream
    // by whole nodes (MAXLEN ~, 100 entries each), so a bounded stream may hold up to one node more.
    expect(await client.xlen(`${KEY_PREFIX}:revocations:events`)).toBeLessThanOrEqual(maxLen + 100);
  });
});
