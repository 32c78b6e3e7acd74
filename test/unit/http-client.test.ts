import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { RequestError, TimeoutError, createHttpClient, send } from '../../providers/http-client.js';

interface Seen {
  readonly method: string | undefined;
  readonly url: string | undefined;
  readonly headers: IncomingMessage['headers'];
  readonly body: string;
}

let server: Server;
let base: string;
const seen: Seen[] = [];
let answer: (req: IncomingMessage, res: ServerResponse) => void = (_req, res) => void res.writeHead(204).end();

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (body += c));
    req.on('end', () => {
      seen.push({ method: req.method, url: req.url, headers: req.headers, body });
      answer(req, res);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));
beforeEach(() => {
  seen.length = 0;
  answer = (_req, res) => void res.writeHead(204).end();
});

describe('vendor HTTP client', () => {
  it('When a JSON call is sent, then the path joins the base URL once, the client headers and the call headers both go along, and the answer comes back as text', async () => {
    answer = (_req, res) => void res.writeHead(200, { 'content-type': 'application/json', 'x-ratelimit-remaining': '7' }).end('{"ok":true}');
    const client = createHttpClient({ baseUrl: `${base}/api/v4/`, headers: { 'user-agent': 'trapi/test', accept: 'application/json' }, timeoutMs: 2000, maxSockets: 2 });
    const a = await send(client, 'DELETE', 'admin/token', { 'private-token': 'admin-credential' }, { json: { token: 'leaked' } });
    expect(a).toMatchObject({ status: 200, body: '{"ok":true}', headers: { 'x-ratelimit-remaining': '7' } });
    expect(seen[0]).toMatchObject({ method: 'DELETE', url: '/api/v4/admin/token', body: '{"token":"leaked"}' });
    expect(seen[0]?.headers).toMatchObject({ 'user-agent': 'trapi/test', accept: 'application/json', 'private-token': 'admin-credential', 'content-type': 'application/json', 'content-length': '18' });
  });

  it('When a form or a raw body is sent, then it is encoded as such, and a call header overrides the content type', async () => {
    const client = createHttpClient({ baseUrl: base, timeoutMs: 2000 });
    await send(client, 'POST', 'runners/reset_authentication_token', {}, { form: { token: 'a b&c' } });
    await send(client, 'POST', 'auth.revoke', { 'content-type': 'application/x-www-form-urlencoded' }, { body: '' });
    expect(seen[0]).toMatchObject({ body: 'token=a+b%26c', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    expect(seen[1]).toMatchObject({ body: '', headers: { 'content-type': 'application/x-www-form-urlencoded', 'content-length': '0' } });
  });

  it('When the answer is a redirect or an error status, then it is returned as it is: never followed, never thrown, never retried', async () => {
    answer = (req, res) => void (req.url === '/moved' ? res.writeHead(302, { location: '/elsewhere' }).end() : res.writeHead(503).end('busy'));
    const client = createHttpClient({ timeoutMs: 2000 });
    expect(await send(client, 'GET', `${base}/moved`, {})).toMatchObject({ status: 302, headers: { location: '/elsewhere' } });
    expect(await send(client, 'POST', `${base}/x`, {})).toMatchObject({ status: 503, body: 'busy' });
    expect(seen.map((s) => s.url)).toEqual(['/moved', '/x']);
  });

  it('When the vendor does not answer within the timeout, then a TimeoutError (ETIMEDOUT) rejects the call, on time', async () => {
    answer = () => undefined; // never answers
    const client = createHttpClient({ baseUrl: base, timeoutMs: 150, maxSockets: 1 });
    const started = Date.now();
    const err = await send(client, 'DELETE', 'admin/token', {}, { json: {} }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TimeoutError);
    expect(err).toMatchObject({ name: 'TimeoutError', code: 'ETIMEDOUT', event: 'request' });
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
    expect(Date.now() - started).toBeLessThan(1000);
    // The socket of the abandoned call is not reused: the next call on the one-socket agent is answered.
    answer = (_req, res) => void res.writeHead(204).end();
    expect((await send(client, 'GET', 'ok', {})).status).toBe(204);
  });

  it('When the connection is refused or cut, then a RequestError with Node’s code rejects the call, carrying neither request nor credential', async () => {
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((r) => closed.close(() => r()));
    const client = createHttpClient({ timeoutMs: 2000 });
    const refused = await send(client, 'POST', `http://127.0.0.1:${port}/x`, { authorization: 'Bearer leaked-secret' }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(RequestError);
    expect(refused).toMatchObject({ name: 'RequestError', code: 'ECONNREFUSED' });
    expect(JSON.stringify(refused)).not.toContain('leaked-secret');
    expect(String((refused as Error).message)).not.toContain('leaked-secret');

    answer = (req) => req.socket.destroy();
    const cut = await send(client, 'POST', `${base}/x`, {}).catch((e: unknown) => e);
    expect(cut).toMatchObject({ name: 'RequestError', code: 'ECONNRESET' });

    // Cut in the middle of the answer: the status came, the body did not. Not an answer: its end is lost.
    answer = (req, res) => {
      res.writeHead(200, { 'content-length': '100' });
      res.write('{"id":', () => req.socket.destroy());
    };
    const halfway = await send(client, 'POST', `${base}/x`, {}).catch((e: unknown) => e);
    expect(halfway).toMatchObject({ name: 'RequestError', code: 'ECONNRESET' });
  });

  it('When a URL is not http(s) or does not parse, then the call is refused (rejected) before anything is sent', async () => {
    const client = createHttpClient({ timeoutMs: 2000 });
    await expect(send(client, 'POST', 'ftp://127.0.0.1/x', {})).rejects.toThrow(/unsupported protocol ftp:/);
    const notAUrl = send(client, 'POST', 'not a url', {}); // a promise, rejected: never a throw at the call
    await expect(notAUrl).rejects.toThrow(/Invalid URL/);
  });
});
