// src/queue/jobs.ts: the backoff between attempts of a revocation job.
import { backoffDelay } from '../../src/queue/jobs.js';

describe('backoffDelay', () => {
  it('doubles per attempt, caps, and jitters within the upper half', () => {
    expect(backoffDelay(1, 1000, 60000, () => 0)).toBe(500);
    expect(backoffDelay(1, 1000, 60000, () => 1)).toBe(1000);
    expect(backoffDelay(4, 1000, 60000, () => 1)).toBe(8000);
    expect(backoffDelay(30, 1000, 60000, () => 1)).toBe(60000);
  });
});
