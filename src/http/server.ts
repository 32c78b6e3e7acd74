// Listening with explicit limits that keep slow, idle or oversized clients from pinning connections, refusals that
// are JSON like every other error (Node's own are empty), and a bounded graceful close.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Express } from 'express';
import { refuseClient } from './client-error.js';

export interface Listening {
  readonly server: Server;
  readonly url: string;
  /** Stops accepting, lets in-flight requests finish for up to `graceMs`, then cuts what is left. */
  close(graceMs: number): Promise<void>;
}

/** The limits of one listener; the README's "Limits" paragraph states the defaults. */
export interface ServerLimits {
  /** Largest request line plus header block: beyond it, `431 header_too_large`. */
  readonly maxHeaderSize: number;
  /** Time to receive the whole header block: beyond it, `408 request_timeout`. */
  readonly headersTimeoutMs: number;
  /** Time to receive the whole request, body included: beyond it, `408 request_timeout`. */
  readonly requestTimeoutMs: number;
  /** How long an idle keep-alive connection is kept open between requests. */
  readonly keepAliveTimeoutMs: number;
  /**
   * How often Node checks the two timeouts above (it does not time them per connection): a request may run over by
   * up to this much. Node's default, 30 s, would triple a 10 s header limit.
   */
  readonly timeoutCheckMs: number;
  /**
   * Socket inactivity, for a client that stops reading an answer. Longer than `requestTimeoutMs`, so that a slow
   * sender gets its 408 rather than a silent close.
   */
  readonly idleTimeoutMs: number;
}

export const DEFAULT_LIMITS: ServerLimits = {
  maxHeaderSize: 16 * 1024, // Node's default, stated: GitLab's headers are a few hundred bytes
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 30_000, // GitLab gives up after 30 s anyway
  keepAliveTimeoutMs: 5_000,
  timeoutCheckMs: 1_000,
  idleTimeoutMs: 60_000,
};

export async function listen(app: Express, port: number, host: string, limits: Partial<ServerLimits> = {}): Promise<Listening> {
  const l = { ...DEFAULT_LIMITS, ...limits };
  const server = createServer({ maxHeaderSize: l.maxHeaderSize, connectionsCheckingInterval: l.timeoutCheckMs }, app);
  server.headersTimeout = l.headersTimeoutMs;
  server.requestTimeout = l.requestTimeoutMs;
  server.keepAliveTimeout = l.keepAliveTimeoutMs;
  server.timeout = l.idleTimeoutMs;
  server.on('clientError', refuseClient);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, resolve);
  });
  const { port: bound } = server.address() as AddressInfo;
  const shownHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
  return {
    server,
    url: `http://${shownHost.includes(':') ? `[${shownHost}]` : shownHost}:${bound}`,
    close: (graceMs) =>
      new Promise<void>((resolve) => {
        const timer = setTimeout(() => server.closeAllConnections(), graceMs);
        server.close(() => {
          clearTimeout(timer);
          resolve();
        });
        server.closeIdleConnections();
      }),
  };
}
