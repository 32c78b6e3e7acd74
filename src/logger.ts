// pino JSON logs with redaction: a token, credential or ciphertext that reaches a log call is censored, not printed.
import { pino, type DestinationStream, type Logger } from 'pino';

export type { Logger } from 'pino';

/** Paths censored wherever they appear (first two levels); code logs fingerprints instead, this is the safety net. */
export const REDACTED_PATHS = [
  'token',
  '*.token',
  'tokens',
  '*.tokens',
  'sealed',
  '*.sealed',
  'authorization',
  '*.authorization',
  'headers.authorization',
  '*.headers.authorization',
  'headers["private-token"]',
  '*.headers["private-token"]',
  'adminToken',
  '*.adminToken',
  'apiTokens',
  '*.apiTokens',
  'secrets',
  '*.secrets',
];

export function createLogger(level: string, destination?: DestinationStream): Logger {
  const options = {
    level,
    base: { service: 'token-revocation-api' },
    // A number under a censored name is a count ("tokens": 10), never a secret: kept, so the log line still says it.
    redact: { paths: REDACTED_PATHS, censor: (value: unknown) => (typeof value === 'number' ? value : '[redacted]') },
    timestamp: pino.stdTimeFunctions.isoTime,
  };
  return destination ? pino(options, destination) : pino(options);
}
