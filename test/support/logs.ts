// Captures the service's log lines in memory, so tests can read them and scan them for secrets.
import { Writable } from 'node:stream';
import { createLogger, type Logger } from '../../src/logger.js';

export interface CapturedLogs {
  readonly logger: Logger;
  readonly lines: string[];
  records(): Record<string, unknown>[];
}

export function captureLogs(level = 'debug'): CapturedLogs {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      lines.push(...chunk.toString('utf8').split('\n').filter((l) => l.length > 0));
      cb();
    },
  });
  return { logger: createLogger(level, stream), lines, records: () => lines.map((l) => JSON.parse(l) as Record<string, unknown>) };
}
