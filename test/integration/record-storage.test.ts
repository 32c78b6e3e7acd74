// How a token's record and the waiting counts are stored: compact for a waiting token, and the same reading for a
// record an earlier version wrote (its events in a list, its locations in a sorted set, ISO times).
import request from 'supertest';
import { fingerprint } from '../../src/domain/fingerprint.js';
import { RECORD_LIMITS } from '../../src/domain/record.js';
import { RecordStore } from '../../src/queue/records.js';
import { UnsettledTokens } from '../../src/queue/unsettled.js';
import { inspectQueue } from '../support/queue.js';
import { API_TOKEN, eventually, item } from '../support/service.js';
import { useStack } from '../support/stack.js';

const stack = useStack({ env: { STRATEGY_ORDER: 'admin' } });
let records: RecordStore;
let unsettled: UnsettledTokens;
beforeAll(() => {
  records = new RecordStore(stack.client, 3600);
  unsettled = new UnsettledTokens(stack.client);
});
afterEach(() => stack.gitlab.faults.clear());

const ADMIN_ROUTE = '/api/v4/admin/token';
let n = 0;
/** A fingerprint no token of the service has. */
const fakeFp = () => (++n).toString(16).padStart(64, 'f');
const record = (fp: string) => `trapi:record:${fp}`;

describe('a waiting token', () => {
  it('is one record key: events and its one location in the hash, its reason counted in the waiting hash', async () => {
    const token = stack.gitlab.createToken('personal_access_token');
    const fp = fingerprint(token);
    stack.gitlab.faults.rateLimitNext(1, { path: ADMIN_ROUTE, retryAfter: 3600 });
    await request(stack.service.url).post('/v1/revoke_tokens').set('Authorization', API_TOKEN).send([item(token, undefined, { location: 'https://gitlab.example.com/a/-/raw/1/x.yml#L1' })]).expect(204);
    await eventually(async () => (await records.get(fp))?.lastError === 'http_429', 'the token waits behind a 429');
    expect(await stack.client.exists(`${record(fp)}:events`, `${record(fp)}:locations`)).toBe(0);
    const r = await records.get(fp);
    expect(r?.events.map((e) => e.event)).toEqual(['rate_limited', 'attempted', 'accepted']);
    expect(r?.events[0]).toMatchObject({ actor: 'service', detail: expect.stringMatching(/^http_429: /) });
    expect(r?.events[2]?.at).toBe(r?.firstReceivedAt);
    expect(r?.locations).toEqual(['https://gitlab.example.com/a/-/raw/1/x.yml#L1']);
    expect(await unsettled.waitingCounts()).toMatchObject({ 'rate_limited:http_429': 1 });
    expect(await stack.client.hexists('trapi:unsettled:waiting', fp)).toBe(0);
  });
});

describe('records', () => {
  it('keep a second location, and every later one, newest first, in the sorted set', async () => {
    const fp = fakeFp();
    const t0 = Date.UTC(2026, 0, 1);
    await records.received([{ fp, type: 't', location: 'https://a' }], t0);
    await records.received([{ fp, type: 't', location: 'https://a' }], t0 + 1000);
    expect(await stack.client.exists(`${record(fp)}:locations`)).toBe(0);
    await records.received([{ fp, type: 't', location: 'https://b' }], t0 + 2000);
    await records.received([{ fp, type: 't' }], t0 + 3000);
    expect(await stack.client.zrange(`${record(fp)}:locations`, '0', '-1', 'WITHSCORES')).toEqual(['https://a', String(t0 + 1000), 'https://b', String(t0 + 2000)]);
    await records.received([{ fp, type: 't', location: 'https://a' }], t0 + 4000);
    const r = await records.get(fp);
    expect(r).toMatchObject({ locations: ['https://a', 'https://b'], received: 5, firstReceivedAt: new Date(t0).toISOString(), lastReceivedAt: new Date(t0 + 4000).toISOString() });
    expect(r?.events).toEqual([{ at: new Date(t0).toISOString(), event: 'accepted', actor: 'service' }]);
  });

  it('received once say so (last = first), and score a first location by the first receipt when a second arrives', async () => {
    const fp = fakeFp();
    const t0 = Date.UTC(2026, 0, 1);
    await records.received([{ fp, type: 't', location: 'https://a' }], t0);
    expect(await records.get(fp)).toMatchObject({ received: 1, firstReceivedAt: new Date(t0).toISOString(), lastReceivedAt: new Date(t0).toISOString(), locations: ['https://a'] });
    await records.received([{ fp, type: 't', location: 'https://b' }], t0 - 5000); // an older batch fanned out late
    expect(await stack.client.zrange(`${record(fp)}:locations`, '0', '-1', 'WITHSCORES')).toEqual(['https://b', String(t0 - 5000), 'https://a', String(t0)]);
    expect(await records.get(fp)).toMatchObject({ received: 2, firstReceivedAt: new Date(t0).toISOString(), lastReceivedAt: new Date(t0 - 5000).toISOString(), locations: ['https://a', 'https://b'] });
    await records.received([{ fp, type: 't' }], t0);
    expect((await records.get(fp))?.lastReceivedAt).toBe(new Date(t0).toISOString());
  });

  it('keep the newest events within the bound, the implied `accepted` while it is among them', async () => {
    const fp = fakeFp();
    await records.received([{ fp, type: 't' }], Date.UTC(2026, 0, 1));
    for (let i = 1; i < RECORD_LIMITS.events; i++) await records.change(fp, { event: 'retrying', detail: `try ${i}`, ...(i === 7 ? { actor: 'alice' } : {}) }, Date.UTC(2026, 0, 2) + i);
    let r = await records.get(fp);
    expect(r?.events).toHaveLength(RECORD_LIMITS.events);
    expect(r?.events.at(-1)).toEqual({ at: new Date(Date.UTC(2026, 0, 1)).toISOString(), event: 'accepted', actor: 'service' });
    expect(r?.events.at(-8)).toEqual({ at: new Date(Date.UTC(2026, 0, 2) + 7).toISOString(), event: 'retrying', actor: 'alice', detail: 'try 7' });
    await records.change(fp, { event: 'replayed', actor: 'bob' }, Date.UTC(2026, 0, 3));
    r = await records.get(fp);
    expect(r?.events).toHaveLength(RECORD_LIMITS.events);
    expect(r?.events[0]).toEqual({ at: new Date(Date.UTC(2026, 0, 3)).toISOString(), event: 'replayed', actor: 'bob' });
    expect(r?.events.at(-1)?.detail).toBe('try 1');
    expect(await stack.client.hlen(record(fp))).toBeLessThanOrEqual(128); // Redis's default listpack entry bound
  });

  it('written by an earlier version read the same, and take new events before the old ones, within the bound', async () => {
    const fp = fakeFp();
    const iso = (ms: number) => new Date(ms).toISOString();
    const t0 = Date.UTC(2025, 11, 1);
    const old = [...Array.from({ length: 98 }, (_, i) => ({ at: iso(t0 + 1000 + i), event: 'retrying', actor: 'service', detail: `http_503: try ${i}` })).reverse(), { at: iso(t0), event: 'accepted', actor: 'service' }];
    await stack.client
      .multi()
      .hset(record(fp), { firstReceivedAt: iso(t0), lastReceivedAt: iso(t0 + 500), updatedAt: iso(t0 + 1097), state: 'attempted', type: 't', received: '2', attempts: '98', lastError: 'http_503' })
      .rpush(`${record(fp)}:events`, ...old.map((e) => JSON.stringify(e)))
      .zadd(`${record(fp)}:locations`, t0, 'https://a', t0 + 500, 'https://b')
      .exec();
    expect(await records.get(fp)).toEqual({ fingerprint: fp, type: 't', state: 'attempted', firstReceivedAt: iso(t0), lastReceivedAt: iso(t0 + 500), received: 2, locations: ['https://b', 'https://a'], attempts: 98, events: old, lastError: 'http_503' });
    await records.change(fp, { event: 'rate_limited', detail: 'http_429: later' }, t0 + 2000);
    await records.change(fp, { state: 'revoked', event: 'revoked' }, t0 + 3000);
    const r = await records.get(fp);
    expect(r?.state).toBe('revoked');
    expect(r?.events.slice(0, 3)).toEqual([{ at: iso(t0 + 3000), event: 'revoked', actor: 'service' }, { at: iso(t0 + 2000), event: 'rate_limited', actor: 'service', detail: 'http_429: later' }, old[0]]);
    expect(r?.events).toHaveLength(RECORD_LIMITS.events); // the oldest old event, `accepted`, trimmed
    expect(await stack.client.llen(`${record(fp)}:events`)).toBe(RECORD_LIMITS.events - 2);
    for (let i = 0; i < RECORD_LIMITS.events; i++) await records.change(fp, { event: 'replayed', actor: 'carol' }, t0 + 4000 + i);
    expect(await stack.client.exists(`${record(fp)}:events`)).toBe(0);
    expect((await records.get(fp))?.events.every((e) => e.event === 'replayed')).toBe(true);
  });
});

describe('waiting counts', () => {
  it('count each waiting token once, under its latest reason, until it settles; entries of an earlier version too', async () => {
    const [a, b, c] = [fakeFp(), fakeFp(), fakeFp()];
    for (const fp of [a, b, c]) await records.received([{ fp, type: 't' }], Date.now());
    const counts = async () => Object.fromEntries(Object.entries(await unsettled.waitingCounts()).filter(([why]) => why.endsWith(':test')));
    await unsettled.waiting(a, 'held:test');
    await unsettled.waiting(a, 'held:test');
    await unsettled.waiting(b, 'held:test');
    expect(await counts()).toEqual({ 'held:test': 2 });
    await unsettled.waiting(a, 'pending:test');
    expect(await counts()).toEqual({ 'held:test': 1, 'pending:test': 1 });
    await stack.client.hset('trapi:unsettled:waiting', c, 'held:test'); // as an earlier version wrote it
    expect(await counts()).toEqual({ 'held:test': 2, 'pending:test': 1 });
    await unsettled.waiting(c, 'held:test');
    expect(await counts()).toEqual({ 'held:test': 2, 'pending:test': 1 });
    expect(await stack.client.hexists('trapi:unsettled:waiting', c)).toBe(0);
    await unsettled.settled(a);
    await unsettled.settled(a);
    expect(await counts()).toEqual({ 'held:test': 2 });
    await unsettled.settled(b);
    await unsettled.settled(c);
    expect(await counts()).toEqual({});
    expect(await stack.client.hexists('trapi:unsettled:waiting', '#held:test')).toBe(0);
  });

  it('drop the count of a token whose job is gone without a settlement, with its entry, at the oldest-waiting reading', async () => {
    const fp = fakeFp();
    await records.received([{ fp, type: 't' }], Date.now());
    await unsettled.accepted([fp], 1); // the oldest entry of all, and no job for it (removed by hand, say)
    await unsettled.waiting(fp, 'held:gone');
    expect((await unsettled.waitingCounts())['held:gone']).toBe(1);
    const queue = inspectQueue(stack.redis.url);
    try {
      await unsettled.oldest(queue);
    } finally {
      await queue.close();
    }
    expect(await stack.client.zscore('trapi:unsettled', fp)).toBeNull();
    expect((await unsettled.waitingCounts())['held:gone']).toBeUndefined();
  });
});
