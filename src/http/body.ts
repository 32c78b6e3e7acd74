// Request bodies: JSON only, bounded in size and depth before parsing, so a hostile body costs little.
import express, { type RequestHandler } from 'express';
import { AppError } from '../errors.js';

const JSON_TYPES = ['application/json', 'application/*+json'];

/** Non-JSON content types are refused before the body is read. */
export const requireJson: RequestHandler = (req, _res, next) => {
  if (req.is(JSON_TYPES) === false || req.is(JSON_TYPES) === null) {
    return next(new AppError('unsupported_media_type', 'Content-Type must be application/json', 415));
  }
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
      if (++depth > maxDepth) throw Object.assign(new Error(`JSON nests deeper than ${maxDepth} levels`), { status: 400, type: 'entity.too.deep' });
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
}

export function jsonBody(limits: { maxBodyBytes: number; maxJsonDepth: number }): RequestHandler {
  return express.json({
    limit: limits.maxBodyBytes,
    strict: true,
    type: JSON_TYPES,
    verify: (_req, _res, buf) => checkDepth(buf, limits.maxJsonDepth),
  });
}
