// The log redaction is a safety net for secrets, not a filter on counts.
import { Writable } from 'node:stream';
import { createLogger } from '../../src/logger.js';

function capture() {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(JSON.parse(chunk.toString('utf8')) as Record<string, unknown>);
      done();
    },
  });
  return { logger: createLogger('info', stream), lines };
}

describe('log redaction', () => {
  it('when a count sits under a censored name (tokens: 10), then the number is kept', async () => {
    const { logger, lines } = capture();
    logger.info({ batch: 'abc', tokens: 10, queued: 3 }, 'batch fanned out');
    await new Promise((r) => setImmediate(r));
    expect(lines[0]).toMatchObject({ tokens: 10, queued: 3 });
  });

  it.each([
    ['a token string', { token: 'glpat-secretsecretsecret' }],
    ['a list of tokens', { tokens: ['glpat-secretsecretsecret'] }],
    ['a nested token', { item: { token: 'glpat-secretsecretsecret' } }],
    ['an authorization header', { headers: { authorization: 'Bearer glpat-secretsecretsecret' } }],
  ])('when %s reaches a log call, then it is censored', async (_what, fields) => {
    const { logger, lines } = capture();
    logger.info(fields, 'x');
    await new Promise((r) => setImmediate(r));
    expect(JSON.stringify(lines[0])).not.toContain('secretsecret');
    expect(JSON.stringify(lines[0])).toContain('[redacted]');
  });
});
