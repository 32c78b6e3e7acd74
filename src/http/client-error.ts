// Refusals Node's HTTP parser makes before Express sees a request (oversized headers, a malformed request, a slow
// sender): answered in the usual JSON error shape instead of Node's empty answers, then the connection is closed.
import type { ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { statusOf, type ErrorCode } from '../error-codes.js';

interface Refusal {
  readonly status: number;
  readonly reason: string;
  readonly code: ErrorCode;
  readonly message: string;
}

const HEADER_TOO_LARGE: Refusal = { status: statusOf('header_too_large'), reason: 'Request Header Fields Too Large', code: 'header_too_large', message: 'The request line and headers are larger than the server accepts' };
const TIMEOUT: Refusal = { status: statusOf('request_timeout'), reason: 'Request Timeout', code: 'request_timeout', message: 'The request was not received in time' };
const CHUNK_EXTENSIONS: Refusal = { status: statusOf('payload_too_large'), reason: 'Payload Too Large', code: 'payload_too_large', message: 'The chunk extensions of the request body are larger than the server accepts' };
const BAD_REQUEST: Refusal = { status: statusOf('bad_request'), reason: 'Bad Request', code: 'bad_request', message: 'The request is not valid HTTP/1.1' };

/** By Node's error code (the same cases Node's own handler distinguishes); anything else the parser refused is a 400. */
export function refusalFor(code: unknown): Refusal {
  switch (code) {
    case 'HPE_HEADER_OVERFLOW':
      return HEADER_TOO_LARGE;
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return TIMEOUT;
    case 'HPE_CHUNK_EXTENSIONS_OVERFLOW':
      return CHUNK_EXTENSIONS;
    default:
      return BAD_REQUEST;
  }
}

/** A complete HTTP/1.1 answer: fixed text only, never anything of the request (it may hold a token). */
export function rawAnswer(r: Refusal): string {
  const body = JSON.stringify({ error: r.code, message: r.message });
  return [
    `HTTP/1.1 ${r.status} ${r.reason}`,
    'Content-Type: application/json; charset=utf-8',
    `Content-Length: ${Buffer.byteLength(body)}`,
    'Cache-Control: no-store',
    'Connection: close',
    '',
    body,
  ].join('\r\n');
}

/** How long a refused client has to take its answer: one that does not read cannot hold the socket longer. */
const FLUSH_GRACE_MS = 1_000;

/**
 * The `clientError` listener. As Node's default, it writes only if the socket can still take it and no answer to an
 * in-flight request has begun (bytes after a started answer would corrupt it for the client); otherwise, and once
 * the answer is flushed, the socket is destroyed.
 */
export function refuseClient(err: Error & { code?: unknown }, socket: Duplex): void {
  // Node's own field for the answer in progress on this socket; not in its types.
  const inFlight = (socket as Duplex & { _httpMessage?: ServerResponse | null })._httpMessage;
  if (!socket.writable || inFlight?.headersSent === true || err.code === 'ECONNRESET') {
    socket.destroy();
    return;
  }
  const timer = setTimeout(() => socket.destroy(), FLUSH_GRACE_MS).unref();
  socket.once('close', () => clearTimeout(timer));
  socket.end(rawAnswer(refusalFor(err.code)), () => socket.destroy());
}
