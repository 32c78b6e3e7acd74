// providers/gitlab/strategies/step.ts: which failures of a revoking call may hide an answer that was lost.
import { revokingFailure } from '../../providers/gitlab/strategies/step.js';

describe('revokingFailure (lost answers)', () => {
  const wouldBe = { status: 'revoked', via: 'admin' } as const;
  it.each([
    ['ETIMEDOUT', true],
    ['ECONNRESET', true],
    ['TimeoutError', true],
    ['ECONNREFUSED', false], // never sent
    ['http_503', false], // GitLab answered
  ])('a transient %s on the revoking call marks a lost answer: %s', (reason, lost) => {
    const step = revokingFailure({ verdict: 'transient', reason, summary: reason }, wouldBe);
    expect(step).toMatchObject({ status: 'transient', reason });
    expect('lost' in step).toBe(lost);
  });
});
