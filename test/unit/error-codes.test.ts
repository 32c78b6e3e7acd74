import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ERROR_CODES, errorTable, statusOf, type ErrorCode } from '../../src/error-codes.js';
import { AppError, StoreUnavailableError, UnauthorizedError } from '../../src/errors.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const read = (path: string) => readFileSync(join(ROOT, path), 'utf8');
const CODES = Object.keys(ERROR_CODES) as ErrorCode[];

function filesUnder(dir: string): string[] {
  return readdirSync(join(ROOT, dir)).flatMap((name) => {
    const path = join(dir, name);
    return statSync(join(ROOT, path)).isDirectory() ? filesUnder(path) : [path];
  });
}

/** The README's table under "### Error codes": from its header row to the first line that is not a row. */
function readmeTable(readme: string): string {
  const lines = readme.split('\n');
  const start = lines.indexOf('| code | status | meaning |');
  expect(start).toBeGreaterThan(0);
  const end = lines.findIndex((l, i) => i > start && !l.startsWith('|'));
  return lines.slice(start, end).join('\n');
}

describe('the error code catalogue', () => {
  it('gives every AppError the status of its code, from the catalogue', () => {
    expect(new AppError('not_found', 'x').status).toBe(404);
    expect(new UnauthorizedError().status).toBe(401);
    expect(new StoreUnavailableError(new Error('x')).status).toBe(503);
    // A code only the CLI or start-up reports is a plain 500 should it ever reach the HTTP edge.
    expect(new AppError('redis_unknown', 'x').status).toBe(500);
    // Checked by `npm run typecheck`, which fails if this line compiles: a code outside the catalogue is a type error.
    // @ts-expect-error -- 'no_such_code' is not an ErrorCode
    const freeString = () => new AppError('no_such_code', 'x');
    expect(freeString).toBeInstanceOf(Function);
  });

  it('is the README table, row for row (regenerate with: npm run error-table)', () => {
    expect(readmeTable(read('README.md'))).toBe(errorTable());
  });

  it('has the status each `<status> <code>` in the README and docs/ gives, and every code they name', () => {
    const docs = ['README.md', ...filesUnder('docs').filter((f) => f.endsWith('.md'))];
    const mentions = docs.flatMap((doc) => [...read(doc).matchAll(/`(\d{3}) ([a-z][a-z_]*)`/g)].map((m) => ({ doc, status: Number(m[1]), code: m[2] })));
    expect(mentions.length).toBeGreaterThan(15);
    const wrong = mentions.filter(({ status, code }) => !(code !== undefined && code in ERROR_CODES && statusOf(code as ErrorCode) === status));
    expect(wrong).toEqual([]);
  });

  it('lists only codes that the source raises', () => {
    const source = filesUnder('src').filter((f) => f.endsWith('.ts') && f !== join('src', 'error-codes.ts')).map(read).join('\n');
    expect(CODES.filter((code) => !source.includes(`'${code}'`))).toEqual([]);
  });
});
