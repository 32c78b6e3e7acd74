// Raw HTTP/1.1 over a TCP socket, for what no HTTP client sends: oversized or malformed request heads, half
// requests, stalls. Reads until the server closes the connection.
import { connect } from 'node:net';

export interface RawAnswer {
  /** 0 when the server closed without answering. */
  readonly status: number;
  /** Lower-cased names. */
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
  /** Every byte received, as latin-1 text. */
  readonly raw: string;
  /** From the last byte sent to the close. */
  readonly ms: number;
}

export interface RawOptions {
  /** Fails when the server has not closed the connection by then. */
  readonly timeoutMs?: number;
  /** Pauses between the parts written, in ms (a slow sender). */
  readonly pauseMs?: number;
}

/** Writes each part in turn, then waits (without ending its side) until the server closes the connection. */
export function rawExchange(url: string, parts: ReadonlyArray<string | Buffer>, options: RawOptions = {}): Promise<RawAnswer> {
  const { hostname, port } = new URL(url);
  const timeoutMs = options.timeoutMs ?? 10_000;
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname);
    const received: Buffer[] = [];
    let sentAt = Date.now();
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`the server did not close the connection within ${timeoutMs} ms; received: ${JSON.stringify(Buffer.concat(received).toString('latin1').slice(0, 300))}`));
    }, timeoutMs);
    socket.on('data', (chunk: Buffer) => received.push(chunk));
    // A reset after the answer (the server destroys the socket) still leaves the answer readable.
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(parseAnswer(Buffer.concat(received).toString('latin1'), Date.now() - sentAt));
    });
    socket.once('connect', () => {
      void (async () => {
        for (const [i, part] of parts.entries()) {
          if (i > 0 && options.pauseMs) await new Promise((r) => setTimeout(r, options.pauseMs));
          if (socket.destroyed) return;
          socket.write(part);
          sentAt = Date.now();
        }
      })();
    });
  });
}

export function parseAnswer(raw: string, ms = 0): RawAnswer {
  const end = raw.indexOf('\r\n\r\n');
  if (end === -1) return { status: 0, headers: {}, body: '', raw, ms };
  const [statusLine = '', ...lines] = raw.slice(0, end).split('\r\n');
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine)?.[1] ?? 0);
  return { status, headers, body: Buffer.from(raw.slice(end + 4), 'latin1').toString('utf8'), raw, ms };
}

/** A request head, CRLF-terminated, with a Host header; `extra` lines are added as given. */
export function head(method: string, path: string, extra: readonly string[] = []): string {
  return [`${method} ${path} HTTP/1.1`, 'Host: 127.0.0.1', ...extra, '', ''].join('\r\n');
}
