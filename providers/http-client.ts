// The one way a vendor HTTP client is made: node:http(s) with keep-alive sockets, explicit timeouts, every status
// returned (never thrown), no redirects and no retries (the queue owns retries, with backoff).
// Not got: its per-request option merging and hooks cost about 0.3 ms of CPU per call, three times the call itself
// (measured on this service's admin calls, issue 16), and a revocation makes two calls.
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage, type OutgoingHttpHeaders } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';

export interface HttpClientOptions {
  /** Prefixed to every path; unset: each call gives its whole URL (a webhook). */
  readonly baseUrl?: string | undefined;
  readonly headers?: Readonly<Record<string, string>>;
  /** The whole request, connecting included. */
  readonly timeoutMs: number;
  /** How long connecting may take; by default at most 5 s, so a dead host fails fast within a long request timeout. */
  readonly connectTimeoutMs?: number;
  /** Keep-alive sockets per host; unset: Node's global agent. */
  readonly maxSockets?: number | undefined;
  /** PEM bundle trusted for HTTPS (a private CA); only with `maxSockets`. */
  readonly ca?: string | undefined;
}

/** A raw answer: every status is returned, never thrown, so that one function per vendor classifies them all. */
export interface HttpAnswer {
  readonly status: number;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly body: string;
}

/** What a request carries: JSON, a form, or a raw body. */
export type RequestBody = { readonly json: object } | { readonly form: Record<string, string> } | { readonly body: string };

/**
 * A request that ran out of time. The name and code are those the classifiers know (and got used): whether the call
 * reached the vendor is unknown, so a revoking call's answer counts as lost.
 */
export class TimeoutError extends Error {
  override readonly name = 'TimeoutError';
  readonly code = 'ETIMEDOUT';
  constructor(readonly event: 'connect' | 'request', ms: number) {
    super(`Timeout awaiting '${event}' for ${ms}ms`);
  }
}

/**
 * A request that failed on the way (refused, reset, a certificate not trusted): Node's error code (`ECONNREFUSED`,
 * `ECONNRESET`, `DEPTH_ZERO_SELF_SIGNED_CERT`, ...) or `ERR_HTTP_REQUEST`, the original as `cause`. Our own class, so that
 * `instanceof Error` holds wherever the classifiers run, and so that it never carries the request (its headers hold a credential).
 */
export class RequestError extends Error {
  override readonly name = 'RequestError';
  readonly code: string;
  constructor(cause: Error) {
    super(cause.message, { cause });
    const code = (cause as { code?: unknown }).code;
    this.code = typeof code === 'string' ? code : 'ERR_HTTP_REQUEST';
  }
}

/** Failures on the way to the vendor or back, not answers of the vendor: a classifier's summary says `network:`. */
export const NETWORK_CODES: ReadonlySet<string> = new Set(['ETIMEDOUT', 'ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'ECONNABORTED', 'ERR_HTTP_REQUEST']);

/**
 * Failures after which the request may have reached the vendor and been carried out: only the answer is missing
 * (a timeout, a connection cut). A refused connection is not among them: nothing was sent.
 */
export const ANSWER_LOST: ReadonlySet<string> = new Set(['ETIMEDOUT', 'ECONNRESET', 'EPIPE', 'ECONNABORTED', 'TimeoutError']);

export interface HttpClient {
  readonly baseUrl: string | undefined;
  readonly headers: Readonly<Record<string, string>>;
  readonly timeoutMs: number;
  readonly connectTimeoutMs: number;
  readonly agents: { readonly http?: HttpAgent; readonly https?: HttpsAgent };
}

export function createHttpClient(o: HttpClientOptions): HttpClient {
  return {
    baseUrl: o.baseUrl?.replace(/\/+$/, ''),
    headers: { ...o.headers },
    timeoutMs: o.timeoutMs,
    connectTimeoutMs: o.connectTimeoutMs ?? Math.min(5000, o.timeoutMs),
    agents: o.maxSockets === undefined ? {} : { http: new HttpAgent({ keepAlive: true, maxSockets: o.maxSockets }), https: new HttpsAgent({ keepAlive: true, maxSockets: o.maxSockets, ...(o.ca ? { ca: o.ca } : {}) }) },
  };
}

function encode(body: RequestBody | undefined): { type?: string; payload?: string } {
  if (body === undefined) return {};
  if ('json' in body) return { type: 'application/json', payload: JSON.stringify(body.json) };
  if ('form' in body) return { type: 'application/x-www-form-urlencoded', payload: new URLSearchParams(body.form).toString() };
  return { payload: body.body };
}

/**
 * Sends one request and reads the answer as text. Resolves with any status; rejects only on network failure or timeout,
 * never throws (async: a URL that does not parse rejects too).
 */
export async function send(client: HttpClient, method: 'POST' | 'DELETE' | 'GET', path: string, headers: Readonly<Record<string, string>>, body?: RequestBody): Promise<HttpAnswer> {
  const url = new URL(client.baseUrl === undefined ? path : `${client.baseUrl}/${path.replace(/^\/+/, '')}`);
  const { type, payload } = encode(body);
  const all: OutgoingHttpHeaders = { ...client.headers, ...(type === undefined ? {} : { 'content-type': type }), ...headers };
  if (payload !== undefined) all['content-length'] = Buffer.byteLength(payload);
  const tls = url.protocol === 'https:';
  if (!tls && url.protocol !== 'http:') throw new TypeError(`unsupported protocol ${url.protocol}`);
  const agent = tls ? client.agents.https : client.agents.http;
  return new Promise<HttpAnswer>((resolve, reject) => {
    let settled = false;
    const finish = (err: Error | undefined, answer?: HttpAnswer) => {
      if (settled) return;
      settled = true;
      clearTimeout(whole);
      clearTimeout(connecting);
      if (err) {
        req.destroy();
        reject(err);
      } else resolve(answer as HttpAnswer);
    };
    const onResponse = (res: IncomingMessage) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => finish(undefined, { status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
      // Also a connection cut in the middle of the answer: Node's ECONNRESET ('aborted') on the response.
      res.on('error', (err) => finish(new RequestError(err)));
    };
    const options = { method, headers: all, ...(agent === undefined ? {} : { agent }) };
    const req = tls ? httpsRequest(url, options, onResponse) : httpRequest(url, options, onResponse);
    const whole = setTimeout(() => finish(new TimeoutError('request', client.timeoutMs)), client.timeoutMs);
    let connecting: NodeJS.Timeout | undefined;
    req.on('socket', (socket) => {
      // A reused keep-alive socket is connected already; only a new one can hang in connect.
      if (!socket.connecting) return;
      connecting = setTimeout(() => finish(new TimeoutError('connect', client.connectTimeoutMs)), client.connectTimeoutMs);
      socket.once('connect', () => clearTimeout(connecting));
    });
    req.on('error', (err) => finish(new RequestError(err)));
    req.end(payload);
  });
}
