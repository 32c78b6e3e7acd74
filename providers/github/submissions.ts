// When a token was last handed to GitHub for revocation, and how often: the only per-token state, shared through Redis.
import type { ProviderState } from '../contract.js';

/** Times and counts only: never the token. Keyed by fingerprint. */
export interface Submission {
  /** Epoch ms of the latest accepted submission (202 from /credentials/revoke, 204 from DELETE /installation/token). */
  readonly submittedAt: number;
  readonly submissions: number;
}

export class Submissions {
  constructor(
    private readonly state: ProviderState,
    /** Long enough to outlive every resubmission and the last confirmation of a job. */
    private readonly ttlMs: number,
  ) {}

  async get(fingerprint: string): Promise<Submission | undefined> {
    const raw = await this.state.get(fingerprint);
    if (raw === undefined) return undefined;
    try {
      const v = JSON.parse(raw) as Partial<Submission>;
      return typeof v.submittedAt === 'number' && typeof v.submissions === 'number' ? { submittedAt: v.submittedAt, submissions: v.submissions } : undefined;
    } catch {
      return undefined;
    }
  }

  /** Records one more accepted submission after `previous` ones. */
  async record(fingerprint: string, previous: number, at = Date.now()): Promise<Submission> {
    const value: Submission = { submittedAt: at, submissions: previous + 1 };
    await this.state.set(fingerprint, JSON.stringify(value), this.ttlMs);
    return value;
  }
}
