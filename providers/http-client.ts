// The one way a vendor HTTP client is made: got.extend with explicit timeouts, every status returned (never thrown),
// no redirects and no got-level retries (the queue owns retries, with backoff).
import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import got, { type Got } from 'got';

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

export function createHttpClient(o: HttpClientOptions): Got {
  return got.extend({
    ...(o.baseUrl === undefined ? {} : { prefixUrl: o.baseUrl.replace(/\/+$/, '') }),
    ...(o.headers === undefined ? {} : { headers: { ...o.headers } }),
    timeout: { connect: o.connectTimeoutMs ?? Math.min(5000, o.timeoutMs), request: o.timeoutMs },
    retry: { limit: 0 },
    throwHttpErrors: false,
    followRedirect: false,
    ...(o.maxSockets === undefined
      ? {}
      : { agent: { http: new HttpAgent({ keepAlive: true, maxSockets: o.maxSockets }), https: new HttpsAgent({ keepAlive: true, maxSockets: o.maxSockets, ...(o.ca ? { ca: o.ca } : {}) }) } }),
  });
}

/** A raw answer: every status is returned, never thrown, so that one function per vendor classifies them all. */
export interface HttpAnswer {
  readonly status: number;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly body: string;
}

/** What a request carries: JSON, a form, or a raw body. */
export type RequestBody = { readonly json: object } | { readonly form: Record<string, string> } | { readonly body: string };

/** Sends one request and reads the answer as text. Resolves with any status; rejects only on network failure. */
export async function send(client: Got, method: 'POST' | 'DELETE' | 'GET', path: string, headers: Readonly<Record<string, string>>, body?: RequestBody): Promise<HttpAnswer> {
  const response = await client(path, { method, headers: { ...headers }, ...body, responseType: 'text' });
  return { status: response.statusCode, headers: response.headers, body: response.body };
}
