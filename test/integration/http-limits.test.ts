// What Node's HTTP parser refuses before Express sees a request (oversized heads, malformed requests, slow senders)
// is answered in the API's JSON error shape, within the configured limits, and queues nothing.
import { connect } from 'node:net';
import { SUPPORTED_TYPE } from '../support/api-server.js';
import { head, parseAnswer, rawExchange, type RawAnswer } from '../support/raw-http.js';
import { API_TOKEN } from '../support/service.js';
import { useStack } from '../support/stack.js';

const HEADERS_TIMEOUT_MS = 500;
const REQUEST_TIMEOUT_MS = 1000;
const CHECK_MS = 100;
const TOKEN = 'glpat-HttpLimitsToken123456';

// The production app alone (no worker, no GitLab): whatever a request enqueued stays in Redis to be seen.
const stack = useStack({ gitlab: false, service: false, api: { headersTimeoutMs: HEADERS_TIMEOUT_MS, requestTimeoutMs: REQUEST_TIMEOUT_MS, timeoutCheckMs: CHECK_MS } });

async function enqueuedJobs(): Promise<number> {
  const keys = await stack.client.keys('trapi:*');
  return keys.filter((k) => /^trapi:(intake|revocations):[0-9a-f]{64}$/.test(k)).length;
}

function expectJsonRefusal(a: RawAnswer, status: number, code: string): void {
  expect(a.status).toBe(status);
  expect(a.headers['content-type']).toMatch(/^application\/json/);
  expect(a.headers['connection']).toBe('close');
  expect(Number(a.headers['content-length'])).toBe(Buffer.byteLength(a.body));
  expect(JSON.parse(a.body)).toEqual({ error: code, message: expect.any(String) });
  expect(a.raw).not.toContain(TOKEN);
  expect(a.raw).not.toContain(API_TOKEN);
}

const body = JSON.stringify([{ type: SUPPORTED_TYPE, token: TOKEN, location: 'https://x/y' }]);
const postHead = (length = Buffer.byteLength(body), extra: readonly string[] = []) =>
  head('POST', '/v1/revoke_tokens', [`Authorization: ${API_TOKEN}`, 'Content-Type: application/json', `Content-Length: ${length}`, ...extra]);

describe('HTTP refusals before routing', () => {
  it('answers a header block over maxHeaderSize (16 KiB) with 431 header_too_large in JSON', async () => {
    const a = await rawExchange(stack.api.url, [head('GET', '/-/liveness', [`X-Padding: ${'a'.repeat(20 * 1024)}`, `X-Leak: ${TOKEN}`])]);
    expectJsonRefusal(a, 431, 'header_too_large');
  });

  it('answers a garbage request line with 400 bad_request in JSON', async () => {
    const a = await rawExchange(stack.api.url, [`\u0001\u0002 not http at all ${TOKEN}\r\n\r\n`]);
    expectJsonRefusal(a, 400, 'bad_request');
  });

  it('answers a malformed header with 400 bad_request in JSON', async () => {
    const a = await rawExchange(stack.api.url, [head('GET', '/-/liveness', [`Bad Header Name: ${TOKEN}`])]);
    expectJsonRefusal(a, 400, 'bad_request');
  });

  it('answers conflicting Content-Length headers with 400 bad_request in JSON and queues nothing', async () => {
    const a = await rawExchange(stack.api.url, [`${postHead().slice(0, -2)}Content-Length: 3\r\n\r\n${body}`]);
    expectJsonRefusal(a, 400, 'bad_request');
    expect(await enqueuedJobs()).toBe(0);
  });

  it('answers a client that stalls inside the header block with 408 request_timeout once headersTimeout is over', async () => {
    const a = await rawExchange(stack.api.url, ['POST /v1/revoke_tokens HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthor'], { timeoutMs: 5000 });
    expectJsonRefusal(a, 408, 'request_timeout');
    expect(a.ms).toBeGreaterThanOrEqual(HEADERS_TIMEOUT_MS - 50);
    expect(a.ms).toBeLessThan(HEADERS_TIMEOUT_MS + 4 * CHECK_MS + 500);
  });

  it('answers a client that stalls inside the body with 408 request_timeout once requestTimeout is over, and queues nothing', async () => {
    const started = Date.now();
    const a = await rawExchange(stack.api.url, [postHead(), body.slice(0, 20)], { timeoutMs: 5000 });
    expectJsonRefusal(a, 408, 'request_timeout');
    const total = Date.now() - started;
    expect(total).toBeGreaterThanOrEqual(REQUEST_TIMEOUT_MS - 50);
    expect(total).toBeLessThan(REQUEST_TIMEOUT_MS + 4 * CHECK_MS + 500);
    expect(await enqueuedJobs()).toBe(0);
  });

  it('still serves a slow client that completes within the limits', async () => {
    const whole = postHead(Buffer.byteLength(body), ['Connection: close']);
    const parts = [whole.slice(0, 30), whole.slice(30), body.slice(0, 10), body.slice(10)];
    const a = await rawExchange(stack.api.url, parts, { pauseMs: 150, timeoutMs: 3000 });
    expect(a.status).toBe(204);
    expect(await enqueuedJobs()).toBe(1);
  });

  it('answers a malformed request after a complete one on the same keep-alive connection, after the first answer', async () => {
    // Not pipelined: sent once the first answer is in (as Node's own handler, a refusal replaces an answer not begun).
    const a = await rawExchange(stack.api.url, [head('GET', '/-/liveness'), 'GARBAGE\r\n\r\n'], { pauseMs: 200 });
    const [first, second] = a.raw.split(/(?=HTTP\/1\.1 )/);
    expect(parseAnswer(first ?? '').status).toBe(200);
    expectJsonRefusal(parseAnswer(second ?? ''), 400, 'bad_request');
  });

  it('drops a client that resets its connection mid-request, and keeps serving others', async () => {
    const { hostname, port } = new URL(stack.api.url);
    await new Promise<void>((resolve) => {
      const s = connect(Number(port), hostname, () => {
        s.write('POST /v1/revoke_tokens HTTP/1.1\r\nHost: x\r\n');
        s.resetAndDestroy();
        resolve();
      });
    });
    const a = await rawExchange(stack.api.url, [head('GET', '/-/liveness', ['Connection: close'])]);
    expect(a.status).toBe(200);
  });

  it('logged no error for any of them (a refused client is not a fault of the service)', () => {
    expect(stack.api.logs.records().filter((r) => Number(r['level']) >= 50)).toEqual([]);
    expect(stack.api.logs.lines.join('\n')).not.toContain(TOKEN);
  });
});
