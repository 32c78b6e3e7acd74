// Request bodies: JSON only, UTF-8, no content coding, bounded in size and depth before parsing, so a hostile body costs little.
import type { RequestHandler } from 'express';
import { AppError } from '../errors.js';

/** `application/json` or `application/<anything>+json`, parameters aside. A string check, not `req.is`: this runs on every POST. */
export function isJsonMediaType(contentType: string | undefined): boolean {
  if (contentType === undefined) return false;
  const semicolon = contentType.indexOf(';');
  const media = (semicolon === -1 ? contentType : contentType.slice(0, semicolon)).trim().toLowerCase();
  return media === 'application/json' || (media.startsWith('application/') && media.endsWith('+json') && !media.includes('/', 12));
}

/** Non-JSON content types are refused before the body is read. */
export const requireJson: RequestHandler = (req, _res, next) => {
  if (!isJsonMediaType(req.headers['content-type'])) return next(new AppError('unsupported_media_type', 'Content-Type must be application/json'));
  next();
};

/** Throws when arrays and objects nest deeper than `maxDepth`; strings are skipped, escapes honoured. One pass, no allocation. */
export function checkDepth(buf: Buffer, maxDepth: number): void {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < buf.length; i++) {
    const c = buf[i];
    if (inString) {
      if (c === 0x5c) i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > maxDepth) throw bodyError('entity.too.deep');
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
}

/** Errors typed like body-parser's, so that one table in errors.ts maps them. Their messages are never shown. */
const bodyError = (type: string): Error => Object.assign(new Error(type), { type });

/**
 * Reads and parses the JSON body into `req.body` (undefined when empty). Lean on purpose, on the hot path: a size cap
 * checked against Content-Length and while reading, the depth scan, then one JSON.parse. Only objects and arrays parse
 * (a bare scalar is invalid_json, as with body-parser's strict mode).
 *
 * `maxInflightBodyBytes` bounds the bytes of the bodies this app holds at once, from the first byte read (or the
 * announced Content-Length) until the answer is sent: a body costs about 12 times its size in heap on its way to the
 * intake job (parsed, validated, sealed, serialised), and the heap has a hard limit (README, "Memory"). A body that
 * would pass the bound while others are held is refused with `503 busy` (GitLab sends the batch again); one alone is
 * always taken, so the bound never refuses what MAX_BODY_BYTES allows. Unset: no bound.
 */
export function jsonBody(limits: { maxBodyBytes: number; maxJsonDepth: number; maxInflightBodyBytes?: number | undefined }): RequestHandler {
  const bound = limits.maxInflightBodyBytes ?? Infinity;
  let held = 0;
  return (req, res, next) => {
    const charset = /;\s*charset=("?)([^";]+)\1/i.exec(req.headers['content-type'] ?? '')?.[2]?.toLowerCase();
    if (charset !== undefined && charset !== 'utf-8' && charset !== 'utf8') return next(bodyError('charset.unsupported'));
    const coding = req.headers['content-encoding'];
    if (coding !== undefined && coding.toLowerCase() !== 'identity') return next(bodyError('encoding.unsupported'));
    // Node's parser has refused a Content-Length that is not a number; 0 for none (a chunked body is held as it comes).
    const announced = Number(req.headers['content-length'] ?? 0) || 0;
    if (announced > limits.maxBodyBytes) return next(bodyError('entity.too.large'));

    let mine = 0;
    let answered = false;
    /** Holds `bytes` more of this body; false (holding nothing more) when that would pass the bound beside others. */
    const hold = (bytes: number): boolean => {
      if (answered || (held - mine > 0 && held + bytes > bound)) return false;
      held += bytes;
      mine += bytes;
      return true;
    };
    if (!hold(announced)) return next(bodyError('server.busy'));
    res.once('close', () => {
      answered = true;
      held -= mine;
      mine = 0;
    });

    const chunks: Buffer[] = [];
    let size = 0;
    const finish = (err?: Error) => {
      req.off('data', onData).off('end', onEnd).off('error', onError).off('aborted', onAborted);
      if (err) req.pause();
      next(err);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limits.maxBodyBytes) finish(bodyError('entity.too.large'));
      else if (size > mine && !hold(size - mine)) finish(bodyError('server.busy'));
      else chunks.push(chunk);
    };
    const onEnd = () => {
      try {
        req.body = parse(Buffer.concat(chunks, size), limits.maxJsonDepth);
        finish();
      } catch (err) {
        finish(err as Error);
      }
    };
    const onError = () => finish(bodyError('request.aborted'));
    const onAborted = onError;
    req.on('data', onData).on('end', onEnd).on('error', onError).on('aborted', onAborted);
  };
}

/**
 * Strict: invalid UTF-8 is refused, not replaced with U+FFFD (Buffer#toString would), which would revoke another
 * token than the one sent. A BOM is kept, so that JSON.parse refuses it as before.
 */
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

function decode(buf: Buffer): string {
  try {
    return utf8.decode(buf);
  } catch {
    throw bodyError('encoding.invalid');
  }
}

function parse(buf: Buffer, maxDepth: number): unknown {
  if (buf.length === 0) return undefined;
  checkDepth(buf, maxDepth);
  const text = decode(buf);
  const first = /\S/.exec(text)?.[0];
  if (first !== '[' && first !== '{') throw bodyError('entity.parse.failed');
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw bodyError('entity.parse.failed');
  }
}
