import type { Redis } from 'ioredis';
import request from 'supertest';
import { startGitLabSimulator, type GitLabSimulator } from '../../simulator/index.js';
import { startTestRedis, type TestRedis } from '../support/redis.js';
import { API_TOKEN, startTestService, type TestService } from '../support/service.js';

const PAT = 'gitleaks_rule_id_gitlab_personal_access_token';
const TOKEN = 'glpat-BadRequestToken12345';
const ok = { type: PAT, token: TOKEN, location: 'https://x/y' };
const MAX_ITEMS = 50;
const MAX_BODY = 64 * 1024;

let redis: TestRedis;
let client: Redis;
let sim: GitLabSimulator;
let svc: TestService;

beforeAll(async () => {
  redis = await startTestRedis();
  client = redis.client();
  sim = await startGitLabSimulator();
  // The API role alone: anything enqueued would stay in Redis for the assertion below to see.
  svc = await startTestService(redis.url, sim.url, sim.adminToken, {
    ROLE: 'api',
    MAX_TOKENS_PER_REQUEST: String(MAX_ITEMS),
    MAX_BODY_BYTES: String(MAX_BODY),
    MAX_JSON_DEPTH: '8',
  });
});
afterAll(async () => {
  await svc?.stop();
  await sim?.stop();
  await redis?.stop();
});

interface Case {
  readonly body?: string | Buffer;
  readonly encoding?: string;
  /** A declared Content-Length larger than the body: refused before reading. */
  readonly length?: number;
  readonly contentType?: string | null;
  readonly auth?: string | null;
}

const json = (v: unknown): string => JSON.stringify(v);
const deep = (n: number): unknown => (n === 0 ? 1 : [deep(n - 1)]);
/** A body whose token holds `inner` between two halves of TOKEN (so the check that TOKEN is never echoed covers it). */
const withToken = (inner: string): string => json([{ ...ok, token: `${TOKEN.slice(0, 10)}${inner}${TOKEN.slice(10)}` }]);
const withLocation = (inner: string, key = 'location'): string => json([{ type: PAT, token: TOKEN, [key]: `https://x/y${inner}z` }]);
/** A valid JSON body in which `bad` (raw bytes, not valid UTF-8) replaces the marker inside the token. */
const withBytes = (bad: number[], where: 'token' | 'location' | 'vulnerability' = 'token'): Buffer => {
  const [before, after] = json([{ ...ok, [where]: `${where === 'token' ? TOKEN : 'x'}\u0001MARK` }]).split('\\u0001MARK');
  return Buffer.concat([Buffer.from(before ?? ''), Buffer.from(bad), Buffer.from(after ?? '')]);
};

/** Characters a token must not hold: C0 controls, space, DEL, C1 controls, non-ASCII text, unpaired surrogates. */
const BAD_TOKEN_CHARACTERS: ReadonlyArray<[string, string]> = [
  ['NUL', '\u0000'],
  ['SOH', '\u0001'],
  ['a tab', '\t'],
  ['a newline', '\n'],
  ['a carriage return', '\r'],
  ['ESC', '\u001b'],
  ['US', '\u001f'],
  ['a space', ' '],
  ['DEL', '\u007f'],
  ['a C1 control (NEL)', '\u0085'],
  ['a C1 control (CSI)', '\u009b'],
  ['a no-break space', '\u00a0'],
  ['a non-ASCII letter', '\u00e9'],
  ['a zero-width space', '\u200b'],
  ['a byte order mark', '\ufeff'],
  ['an emoji', '\u{1F600}'],
  ['a lone high surrogate', '\ud800'],
  ['a lone low surrogate', '\udc00'],
  ['the replacement character', '\ufffd'],
];
/** Characters a location must not hold (it may hold spaces and non-ASCII text). */
const BAD_LOCATION_CHARACTERS: ReadonlyArray<[string, string]> = [
  ['NUL', '\u0000'],
  ['a newline', '\n'],
  ['a carriage return', '\r'],
  ['ESC', '\u001b'],
  ['DEL', '\u007f'],
  ['a C1 control (NEL)', '\u0085'],
  ['a lone high surrogate', '\ud83d'],
  ['a lone low surrogate', '\ude00'],
];
/** Byte sequences that are not UTF-8 (each would have become U+FFFD). */
const BAD_UTF8: ReadonlyArray<[string, number[]]> = [
  ['a lone 0xFF byte', [0xff]],
  ['a lone continuation byte', [0x80]],
  ['an overlong slash', [0xc0, 0xaf]],
  ['a truncated 3-byte sequence', [0xe2, 0x82]],
  ['an encoded surrogate (CESU-8)', [0xed, 0xa0, 0x80]],
  ['a code point over U+10FFFF', [0xf4, 0x90, 0x80, 0x80]],
  ['a latin-1 e-acute', [0xe9]],
];

const cases: ReadonlyArray<[string, Case, number, string]> = [
  ['truncated JSON', { body: '[{"type":' }, 400, 'invalid_json'],
  ['trailing garbage', { body: '[] x' }, 400, 'invalid_json'],
  ['single quotes', { body: "[{'type':'x'}]" }, 400, 'invalid_json'],
  ['a bare string', { body: '"glpat-BadRequestToken12345"' }, 400, 'invalid_json'],
  ['a bare number', { body: '42' }, 400, 'invalid_json'],
  ['null', { body: 'null' }, 400, 'invalid_json'],
  ['an object instead of an array', { body: json(ok) }, 400, 'invalid_request'],
  ['an array of strings', { body: json([TOKEN]) }, 400, 'invalid_request'],
  ['an array holding null', { body: json([null]) }, 400, 'invalid_request'],
  ['nested arrays', { body: json([[ok]]) }, 400, 'invalid_request'],
  ['a missing token', { body: json([{ type: PAT }]) }, 400, 'invalid_request'],
  ['a missing type', { body: json([{ token: TOKEN }]) }, 400, 'invalid_request'],
  ['a numeric token', { body: json([{ type: PAT, token: 12345 }]) }, 400, 'invalid_request'],
  ['a numeric type', { body: json([{ type: 7, token: TOKEN }]) }, 400, 'invalid_request'],
  ['an array as token', { body: json([{ type: PAT, token: [TOKEN] }]) }, 400, 'invalid_request'],
  ['an empty token', { body: json([{ type: PAT, token: '' }]) }, 400, 'invalid_request'],
  ['an empty type', { body: json([{ type: '', token: TOKEN }]) }, 400, 'invalid_request'],
  ['a numeric location', { body: json([{ ...ok, location: 3 }]) }, 400, 'invalid_request'],
  ['an object as url', { body: json([{ type: PAT, token: TOKEN, url: { href: 'x' } }]) }, 400, 'invalid_request'],
  ['a __proto__ key', { body: `[{"type":"${PAT}","token":"${TOKEN}","__proto__":{"polluted":true}}]` }, 400, 'invalid_request'],
  ['a constructor key', { body: json([{ ...ok, constructor: { prototype: {} } }]) }, 400, 'invalid_request'],
  ['a prototype key', { body: json([{ ...ok, prototype: 1 }]) }, 400, 'invalid_request'],
  ['an oversized token', { body: json([{ ...ok, token: `glpat-${'a'.repeat(1100)}` }]) }, 400, 'invalid_request'],
  ['an oversized location', { body: json([{ ...ok, location: `https://x/${'a'.repeat(4100)}` }]) }, 400, 'invalid_request'],
  ['an oversized type', { body: json([{ ...ok, type: 't'.repeat(201) }]) }, 400, 'invalid_request'],
  ['too many items', { body: json(Array.from({ length: MAX_ITEMS + 1 }, (_, i) => ({ ...ok, token: `${TOKEN}${i}` }))) }, 400, 'invalid_request'],
  ['a body over the size limit', { body: json([{ ...ok, vulnerability: 'v'.repeat(MAX_BODY) }]) }, 413, 'payload_too_large'],
  ['nesting over the depth limit', { body: json([{ ...ok, vulnerability: deep(10) }]) }, 400, 'invalid_request'],
  ['one valid and one invalid item', { body: json([ok, { type: PAT }]) }, 400, 'invalid_request'],
  ['an empty body', { body: '' }, 400, 'invalid_request'],
  ['text/plain', { body: json([ok]), contentType: 'text/plain' }, 415, 'unsupported_media_type'],
  ['a form body', { body: `type=${PAT}&token=${TOKEN}`, contentType: 'application/x-www-form-urlencoded' }, 415, 'unsupported_media_type'],
  ['no content type', { body: json([ok]), contentType: null }, 415, 'unsupported_media_type'],
  ['a latin-1 charset', { body: json([ok]), contentType: 'application/json; charset=latin1' }, 415, 'unsupported_media_type'],
  ['a gzip content coding', { body: json([ok]), contentType: 'application/json', encoding: 'gzip' }, 415, 'unsupported_media_type'],
  ['a Content-Length over the size limit', { body: json([ok]), length: MAX_BODY + 1 }, 413, 'payload_too_large'],
  ['no credential', { body: json([ok]), auth: null }, 401, 'unauthorized'],
  ['a wrong credential', { body: json([ok]), auth: 'not-the-shared-secret-at-all' }, 401, 'unauthorized'],
  ['a wrong Bearer credential', { body: json([ok]), auth: 'Bearer not-the-shared-secret-at-all' }, 401, 'unauthorized'],
  ['the right secret under another scheme', { body: json([ok]), auth: `Token ${API_TOKEN}` }, 401, 'unauthorized'],
  ['the right secret with a suffix', { body: json([ok]), auth: `${API_TOKEN}x` }, 401, 'unauthorized'],
  ['a Bearer credential and an invalid body', { body: json({}), auth: `Bearer ${API_TOKEN}` }, 400, 'invalid_request'],
  ...BAD_TOKEN_CHARACTERS.map(([name, c]): [string, Case, number, string] => [`a token holding ${name}`, { body: withToken(c) }, 400, 'invalid_request']),
  ['a token of one control character', { body: json([{ ...ok, token: '\u0007' }]) }, 400, 'invalid_request'],
  ...BAD_LOCATION_CHARACTERS.map(([name, c]): [string, Case, number, string] => [`a location holding ${name}`, { body: withLocation(c) }, 400, 'invalid_request']),
  ['a url holding a NUL', { body: withLocation('\u0000', 'url') }, 400, 'invalid_request'],
  ...BAD_UTF8.map(([name, bytes]): [string, Case, number, string] => [`${name} in the token`, { body: withBytes(bytes) }, 400, 'invalid_encoding']),
  ['a lone 0xFF byte in the location', { body: withBytes([0xff], 'location') }, 400, 'invalid_encoding'],
  ['invalid UTF-8 in an ignored field', { body: withBytes([0xc3, 0x28], 'vulnerability') }, 400, 'invalid_encoding'],
  ['a UTF-16LE body with its byte order mark', { body: Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(json([ok]), 'utf16le')]) }, 400, 'invalid_encoding'],
];

/** Intake jobs (one per accepted request) and revocation jobs (one per token): neither may appear. */
async function enqueuedJobs(): Promise<number> {
  const keys = await client.keys('trapi:*');
  return keys.filter((k) => /^trapi:(intake|revocations):[0-9a-f]{64}$/.test(k)).length;
}

describe('POST /v1/revoke_tokens with bad requests', () => {
  it(`covers at least 30 cases (has ${cases.length})`, () => expect(cases.length).toBeGreaterThanOrEqual(30));

  it.each(cases.map(([name, c, status, code]) => [name, status, code, c] as const))('answers %s with %i %s and enqueues nothing', async (_name, status, code, c) => {
    let req = request(svc.url).post('/v1/revoke_tokens');
    // Bytes as they are: superagent would JSON-encode a Buffer under a JSON content type.
    if (Buffer.isBuffer(c.body)) req = req.serialize((bytes: unknown) => bytes as string);
    if (c.auth !== null) req = req.set('Authorization', c.auth ?? API_TOKEN);
    if (c.contentType !== null) req = req.set('Content-Type', c.contentType ?? 'application/json');
    if (c.encoding) req = req.set('Content-Encoding', c.encoding);
    if (c.length) req = req.set('Content-Length', String(c.length));
    const res = await req.send(c.body ?? '');
    expect(res.status).toBe(status);
    expect(res.headers['content-type']).toMatch(/application\/json/);
    expect(res.body).toEqual(expect.objectContaining({ error: code, message: expect.any(String) }));
    expect(res.text).not.toContain(TOKEN);
    expect(res.text).not.toContain(API_TOKEN);
    expect(await enqueuedJobs()).toBe(0);
  });

  it('names each bad item by index and path', async () => {
    const res = await request(svc.url)
      .post('/v1/revoke_tokens')
      .set('Authorization', API_TOKEN)
      .send([ok, { type: PAT, token: 5 }, { token: TOKEN }]);
    expect(res.status).toBe(400);
    expect(res.body.details).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ index: 1, path: '/1/token' }),
        expect.objectContaining({ index: 2, path: '/2', message: expect.stringContaining("'type'") }),
      ]),
    );
  });

  it('names a token or location with a bad character by index and path, without quoting it', async () => {
    const secret = 'glpat-QuotedNowhere0001';
    const res = await request(svc.url)
      .post('/v1/revoke_tokens')
      .set('Authorization', API_TOKEN)
      .send([ok, { ...ok, location: 'https://x/\u0000' }, ok, { ...ok, token: `${secret}\u0000Zq9Tail` }, { ...ok, url: 'https://x/\ud800' }]);
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ error: 'invalid_request', message: expect.any(String), details: expect.any(Array) });
    expect(res.body.details).toEqual([
      { index: 1, path: '/1/location', message: expect.stringContaining('control characters') },
      { index: 3, path: '/3/token', message: expect.stringContaining('printable ASCII') },
      { index: 4, path: '/4/url', message: expect.stringContaining('unpaired surrogates') },
    ]);
    expect(res.text).not.toContain(secret);
    expect(res.text).not.toContain('Zq9Tail');
    expect(await enqueuedJobs()).toBe(0);
  });

  it('still enqueues a good batch afterwards (the checks above could see a job)', async () => {
    // Every printable ASCII character is a valid token character; a location may hold spaces and non-ASCII text.
    const printable = String.fromCharCode(...Array.from({ length: 0x7e - 0x21 + 1 }, (_, i) => 0x21 + i));
    const res = await request(svc.url)
      .post('/v1/revoke_tokens')
      .set('Authorization', API_TOKEN)
      .send([ok, { type: PAT, token: printable, location: 'https://x/a file name, é, 日本, \u{1F600}' }]);
    expect(res.status).toBe(204);
    expect(await enqueuedJobs()).toBe(1);
  });
});
