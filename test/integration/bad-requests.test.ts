import { readFileSync } from 'node:fs';
import { Ajv } from 'ajv';
import request from 'supertest';
import { schemaPath } from '../../src/paths.js';
import { SUPPORTED_TYPE } from '../support/api-server.js';
import { head, rawExchange } from '../support/raw-http.js';
import { API_TOKEN } from '../support/service.js';
import { useStack } from '../support/stack.js';

const PAT = 'gitleaks_rule_id_gitlab_personal_access_token';
const TOKEN = 'glpat-BadRequestToken12345';
const ok = { type: PAT, token: TOKEN, location: 'https://x/y' };
const MAX_ITEMS = 50;
const MAX_BODY = 64 * 1024;

// The API role alone: anything enqueued would stay in Redis for the assertion below to see.
const stack = useStack({ env: { ROLE: 'api', MAX_TOKENS_PER_REQUEST: String(MAX_ITEMS), MAX_BODY_BYTES: String(MAX_BODY), MAX_JSON_DEPTH: '8' } });

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

/** Intake jobs (one per large accepted request) and revocation jobs (one per token): neither may appear. */
async function enqueuedJobs(): Promise<number> {
  const keys = await stack.client.keys('trapi:*');
  return keys.filter((k) => /^trapi:(intake|revocations):[0-9a-f]{64}$/.test(k)).length;
}

describe('POST /v1/revoke_tokens with bad requests', () => {
  it(`covers at least 30 cases (has ${cases.length})`, () => expect(cases.length).toBeGreaterThanOrEqual(30));

  it.each(cases.map(([name, c, status, code]) => [name, status, code, c] as const))('answers %s with %i %s and enqueues nothing', async (_name, status, code, c) => {
    let req = request(stack.service.url).post('/v1/revoke_tokens');
    // Bytes as they are: superagent would JSON-encode a Buffer under a JSON content type.
    if (Buffer.isBuffer(c.body)) req = req.serialize((bytes: unknown) => bytes as string);
    if (c.auth !== null) req = req.set('Authorization', c.auth ?? API_TOKEN);
    if (c.contentType !== null) req = req.set('Content-Type', c.contentType ?? 'application/json');
    if (c.encoding) req = req.set('Content-Encoding', c.encoding);
    if (c.length) req = req.set('Content-Length', String(c.length));
    const res = await req.send(c.body ?? '');
    expect(res.status).toBe(status);
    expectRefusal(res.status, res.headers['content-type'], res.text);
    expect(res.body).toEqual(expect.objectContaining({ error: code, message: expect.any(String) }));
    expect(res.text).not.toContain(TOKEN);
    expect(res.text).not.toContain(API_TOKEN);
    expect(await enqueuedJobs()).toBe(0);
  });

  it('names each bad item by index and path', async () => {
    const res = await request(stack.service.url)
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
    const res = await request(stack.service.url)
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
});

/** Every refusal, from Express or from Node's parser: the one error shape of schemas/error-response.schema.json. */
const errorShape = new Ajv({ strict: true }).compile(JSON.parse(readFileSync(schemaPath('error-response.schema.json'), 'utf8')) as object);
/** Status of every answer the hostile requests below got, by `status code`: for the report and the 5xx check. */
const seen = new Map<string, number>();

function expectRefusal(status: number, contentType: string | undefined, text: string): void {
  const parsed = JSON.parse(text) as { error?: unknown };
  const key = `${status} ${String(parsed.error)}`;
  seen.set(key, (seen.get(key) ?? 0) + 1);
  expect(status).toBeGreaterThanOrEqual(400);
  expect(status).toBeLessThan(500);
  expect(contentType).toMatch(/^application\/json/);
  expect(errorShape(parsed) ? [] : errorShape.errors).toEqual([]);
  expect(text).not.toContain(TOKEN);
  expect(text).not.toContain(API_TOKEN);
}

/** A small seeded PRNG (mulberry32): the same seed, the same requests, so a failure can be replayed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const FUZZ_SEED = Number(process.env['FUZZ_SEED'] ?? 20260731);
const FUZZ_REQUESTS = 400;

/** A body that must be refused: one mutation, each of which makes any valid batch invalid. */
function hostileBody(rnd: () => number): Buffer {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)] as T;
  const insert = (text: string, piece: string): string => {
    const at = Math.floor(rnd() * (text.length + 1));
    return text.slice(0, at) + piece + text.slice(at);
  };
  const items = Array.from({ length: 1 + Math.floor(rnd() * 5) }, (_, i) => ({ ...ok, token: `${TOKEN}${i}` }));
  const victim = Math.floor(rnd() * items.length);
  const badChar = (): string => pick([...BAD_TOKEN_CHARACTERS.map(([, c]) => c), String.fromCharCode(Math.floor(rnd() * 0x20)), String.fromCharCode(0x7f + Math.floor(rnd() * 0x21))]);
  switch (Math.floor(rnd() * 4)) {
    case 0: // a bad character anywhere in one token
      items[victim] = { ...ok, token: insert(`${TOKEN}${victim}`, badChar()) };
      return Buffer.from(json(items));
    case 1: // a control character or unpaired surrogate anywhere in one location
      items[victim] = { ...ok, token: `${TOKEN}${victim}`, location: insert('https://gitlab.example.com/g/p/-/blob/main/a b é.yml', pick(BAD_LOCATION_CHARACTERS)[1]) };
      return Buffer.from(json(items));
    case 2: {
      // bytes that are not UTF-8, anywhere in the body
      const text = Buffer.from(json(items));
      const at = Math.floor(rnd() * (text.length + 1));
      return Buffer.concat([text.subarray(0, at), Buffer.from(pick(BAD_UTF8)[1]), text.subarray(at)]);
    }
    default: {
      // the body cut short: a strict prefix of a JSON array is never valid JSON
      const text = Buffer.from(json(items));
      return text.subarray(0, 1 + Math.floor(rnd() * (text.length - 1)));
    }
  }
}

describe('hostile requests (fuzz): no 5xx, every refusal in the error shape, nothing queued', () => {
  it(`refuses ${FUZZ_REQUESTS} mutated batches (seed ${FUZZ_SEED}: control characters, bad locations, invalid UTF-8, truncation)`, async () => {
    const rnd = prng(FUZZ_SEED);
    for (let i = 0; i < FUZZ_REQUESTS; i++) {
      const res = await request(stack.service.url)
        .post('/v1/revoke_tokens')
        .set('Authorization', API_TOKEN)
        .set('Content-Type', 'application/json')
        .serialize((bytes: unknown) => bytes as string)
        .send(hostileBody(rnd));
      expect(res.status).toBe(400);
      expectRefusal(res.status, res.headers['content-type'], res.text);
    }
    expect(await enqueuedJobs()).toBe(0);
  });

  const variants: ReadonlyArray<[string, string]> = [
    ['POST', '/v1/revoke_tokens/'],
    ['POST', '/V1/REVOKE_TOKENS'],
    ['POST', '/v1/Revoke_Tokens'],
    ['POST', '/V1/revoke_tokens/'],
    ['POST', '/v1//revoke_tokens'],
    ['POST', '/v1/revoke_tokens//'],
    ['POST', '/v1/revoke%5Ftokens'],
    ['POST', '/v1/revoke_tokens%2F'],
    ['POST', '/v1/revoke_tokens.json'],
    ['GET', '/v1/revocable_token_types/'],
    ['GET', '/V1/REVOCABLE_TOKEN_TYPES'],
    ['GET', '/-/liveness/'],
    ['GET', '/-/Readiness'],
    ['GET', '/METRICS'],
    ['GET', '/metrics/'],
  ];
  it.each(variants)('answers %s %s with 404 not_found (routing is strict and case-sensitive) and queues nothing', async (method, path) => {
    const res = await request(stack.service.url)[method === 'POST' ? 'post' : 'get'](path).set('Authorization', API_TOKEN).send(method === 'POST' ? [ok] : undefined);
    expect(res.status).toBe(404);
    expect(res.body.error).toBe('not_found');
    expectRefusal(res.status, res.headers['content-type'], res.text);
    expect(await enqueuedJobs()).toBe(0);
  });

  it('still answers the exact paths', async () => {
    const types = await request(stack.service.url).get('/v1/revocable_token_types').set('Authorization', API_TOKEN);
    expect(types.status).toBe(200);
    expect(types.body.types).toContain(PAT);
    expect((await request(stack.service.url).get('/-/liveness')).status).toBe(200);
    const tooFew = await request(stack.service.url).post('/v1/revoke_tokens?x=1').set('Authorization', API_TOKEN).send({});
    expect(tooFew.status).toBe(400); // routed: a query string is not part of the path
  });

  const post = (extra: readonly string[] = []) => head('POST', '/v1/revoke_tokens', [`Authorization: ${API_TOKEN}`, 'Content-Type: application/json', ...extra]);
  const wire: ReadonlyArray<[string, string, number, string]> = [
    ['one header over 16 KiB', post([`X-Padding: ${'a'.repeat(17 * 1024)}`]), 431, 'header_too_large'],
    ['many headers over 16 KiB in all', post(Array.from({ length: 400 }, (_, i) => `X-H${i}: ${'b'.repeat(40)}`)), 431, 'header_too_large'],
    ['a request line over 16 KiB', head('GET', `/v1/revocable_token_types?q=${'c'.repeat(17 * 1024)}`), 431, 'header_too_large'],
    ['a token in an oversized header', post([`X-Token: ${TOKEN}`, `X-Padding: ${'d'.repeat(17 * 1024)}`]), 431, 'header_too_large'],
    ['binary garbage', '\u0000\u0001\u0002\u0003\r\n\r\n', 400, 'bad_request'],
    ['an HTTP/2 preface', 'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 400, 'bad_request'],
    ['a lower-case method', head('post', '/v1/revoke_tokens'), 400, 'bad_request'],
    ['an unknown HTTP version', 'GET /-/liveness HTTP/9.9\r\nHost: x\r\n\r\n', 400, 'bad_request'],
    ['a space in the target', 'GET /v1/revoke tokens HTTP/1.1\r\nHost: x\r\n\r\n', 400, 'bad_request'],
    ['a control character in the target', 'GET /v1/\u0001 HTTP/1.1\r\nHost: x\r\n\r\n', 400, 'bad_request'],
    ['a header without a colon', post(['NoColonHere']), 400, 'bad_request'],
    ['a space in a header name', post([`X Token: ${TOKEN}`]), 400, 'bad_request'],
    ['a NUL in a header value', post([`X-Token: a\u0000b`]), 400, 'bad_request'],
    ['a bare LF line ending', 'GET /-/liveness HTTP/1.1\nHost: x\n\n', 400, 'bad_request'],
    ['Content-Length and Transfer-Encoding together', post(['Content-Length: 2', 'Transfer-Encoding: chunked']) + '[]', 400, 'bad_request'],
    ['conflicting Content-Lengths', post(['Content-Length: 2', 'Content-Length: 3']) + '[]', 400, 'bad_request'],
    ['a negative Content-Length', post(['Content-Length: -1']), 400, 'bad_request'],
    ['a non-numeric Content-Length', post(['Content-Length: 12abc']), 400, 'bad_request'],
    ['an invalid chunk size', post(['Transfer-Encoding: chunked']) + 'zz\r\n[]\r\n0\r\n\r\n', 400, 'bad_request'],
  ];
  it.each(wire.map(([name, bytes, status, code]) => [name, status, code, bytes] as const))('answers %s with %i %s in JSON, closes the connection and queues nothing', async (_name, status, code, bytes) => {
    const a = await rawExchange(stack.service.url, [bytes]);
    expect(a.status).toBe(status);
    expect(a.headers['connection']).toBe('close');
    expect(JSON.parse(a.body)).toEqual(expect.objectContaining({ error: code }));
    expectRefusal(a.status, a.headers['content-type'], a.body);
    expect(await enqueuedJobs()).toBe(0);
  });
});

describe('slow senders (timeouts of 0.5 s for headers and 1 s for the request, on the production app)', () => {
  // The production app alone, on the file's Redis.
  const slow = useStack({ redis: () => stack.redis, gitlab: false, service: false, api: { headersTimeoutMs: 500, requestTimeoutMs: 1000, timeoutCheckMs: 100 } });
  const body = json([{ ...ok, type: SUPPORTED_TYPE }]);
  const postHead = head('POST', '/v1/revoke_tokens', [`Authorization: ${API_TOKEN}`, 'Content-Type: application/json', `Content-Length: ${Buffer.byteLength(body)}`]);

  it.each<[string, string[], number]>([
    ['half a request line', ['POST /v1/revo'], 0],
    ['half a header block', [postHead.slice(0, 60)], 0],
    ['a complete head and half the body', [postHead, body.slice(0, 25)], 0],
    ['a head and no body', [postHead], 0],
    ['a byte every 100 ms (slowloris)', [...postHead.slice(0, 40)], 100],
  ])('answers %s with 408 request_timeout in JSON within the limit and queues nothing', async (_name, parts, pauseMs) => {
    const started = Date.now();
    const a = await rawExchange(slow.api.url, parts, { pauseMs, timeoutMs: 5000 });
    const ms = Date.now() - started;
    expect(a.status).toBe(408);
    expect(a.headers['connection']).toBe('close');
    expectRefusal(a.status, a.headers['content-type'], a.body);
    expect(ms).toBeLessThan(2500);
    expect(await enqueuedJobs()).toBe(0);
  });
});

describe('afterwards', () => {
  it('saw no 5xx in any of the hostile requests above', () => {
    console.info(`hostile requests by answer: ${JSON.stringify(Object.fromEntries([...seen].sort()))}`);
    expect([...seen.keys()].filter((k) => k.startsWith('5'))).toEqual([]);
    expect([...seen.values()].reduce((a, b) => a + b, 0)).toBeGreaterThan(FUZZ_REQUESTS);
  });

  it('logged no token and no error', () => {
    expect(stack.service.logs.lines.join('\n')).not.toContain(TOKEN);
    expect(stack.service.logs.records().filter((r) => Number(r['level']) >= 50)).toEqual([]);
  });

  it('still enqueues a good batch afterwards (the checks above could see a job)', async () => {
    // Every printable ASCII character is a valid token character; a location may hold spaces and non-ASCII text.
    const printable = String.fromCharCode(...Array.from({ length: 0x7e - 0x21 + 1 }, (_, i) => 0x21 + i));
    const res = await request(stack.service.url)
      .post('/v1/revoke_tokens')
      .set('Authorization', API_TOKEN)
      .send([ok, { type: PAT, token: printable, location: 'https://x/a file name, é, 日本, \u{1F600}' }]);
    expect(res.status).toBe(204);
    // A small request becomes one revocation job per token before its 204 (ROLE=api: no worker takes them).
    expect(await enqueuedJobs()).toBe(2);
  });
});
