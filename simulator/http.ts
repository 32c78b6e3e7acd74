// Plain node:http plumbing shared by the simulators (GitLab, GitHub, Slack) and the control API: bodies in, replies out.
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** What a route handler answers; the server adds latency, logging and writes it. */
export interface Reply {
  status: number;
  /** Objects are sent as JSON, strings as text/plain; undefined means an empty body. */
  body?: unknown;
  headers?: Record<string, string>;
  /** The token the call acted on, for the call log. */
  token?: string;
}

/** A request as handlers see it: Grape-style params merge the query string and the body. */
export interface Request {
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
  params: Record<string, unknown>;
  /** Path parameters, e.g. `id` of `/groups/:id/...`. */
  pathParams: Record<string, string>;
}

export class BadRequestError extends Error {}

const MAX_BODY_BYTES = 1024 * 1024;

/** Listens on `host:port` (0: a free port) and resolves with the port: one start-up for every simulator. */
export async function listenOn(server: Server, host: string, port: number): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  return (server.address() as AddressInfo).port;
}

export function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      // Keep draining so keep-alive survives, but stop buffering past the limit.
      if (size <= MAX_BODY_BYTES) chunks.push(chunk);
    });
    req.on('end', () => (size > MAX_BODY_BYTES ? reject(new BadRequestError('body too large')) : resolve(Buffer.concat(chunks).toString('utf8'))));
    req.on('error', reject);
  });
}

/** Parses JSON or form bodies by Content-Type, as Grape does; other types contribute nothing. */
export function parseParams(raw: string, contentType: string | undefined, query: URLSearchParams): Record<string, unknown> {
  const params: Record<string, unknown> = Object.fromEntries(query);
  const type = (contentType ?? '').split(';')[0]?.trim().toLowerCase();
  if (raw.length === 0) return params;
  if (type === 'application/json') {
    let parsed: unknown;
    try {
      parsed = JSON.parse(raw);
    } catch {
      throw new BadRequestError('Invalid JSON');
    }
    if (parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)) Object.assign(params, parsed);
    else params['_json'] = parsed;
  } else if (type === 'application/x-www-form-urlencoded') {
    Object.assign(params, Object.fromEntries(new URLSearchParams(raw)));
  }
  return params;
}

export function json(status: number, body: unknown, token?: string): Reply {
  return token === undefined ? { status, body } : { status, body, token };
}

export function empty(status: number, token?: string): Reply {
  return token === undefined ? { status } : { status, token };
}

export function send(res: ServerResponse, reply: Pick<Reply, 'status' | 'body' | 'headers'>): void {
  if (res.writableEnded || res.destroyed) return;
  const headers: Record<string, string> = { ...reply.headers };
  let payload = '';
  if (reply.body !== undefined && reply.status !== 204) {
    const isText = typeof reply.body === 'string';
    payload = isText ? (reply.body as string) : JSON.stringify(reply.body);
    headers['Content-Type'] ??= isText ? 'text/plain' : 'application/json';
  }
  headers['Content-Length'] = String(Buffer.byteLength(payload));
  res.writeHead(reply.status, headers);
  res.end(payload);
}

/** A string param, or undefined when absent or not a non-empty string. */
export function stringParam(params: Record<string, unknown>, name: string): string | undefined {
  const v = params[name];
  return typeof v === 'string' && v.length > 0 ? v : undefined;
}
