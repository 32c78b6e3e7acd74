// The outcomes the GitHub provider answers, built in one place so every path words them the same.
import type { Outcome } from '../../src/domain/outcome.js';
import type { Classified } from './classify.js';

export const VIA_BATCH = 'credentials_revoke';
export const VIA_INSTALLATION = 'installation_token';

export const revokedConfirmed = (via: string): Outcome => ({ status: 'revoked', via, confirmed: true });

export const awaitingConfirmation = (retryAfterMs: number, summary: string): Outcome => ({ status: 'pending', reason: 'awaiting_confirmation', retryAfterMs: Math.max(1, Math.ceil(retryAfterMs)), summary });

export const stillActive = (submissions: number): Outcome => ({
  status: 'permanent',
  reason: 'still_active_after_revoke',
  summary: `GitHub accepted the token ${submissions} time(s) but it still authenticates; revoke it by hand (its owner, or GitHub support)`,
});

/** A per-token call that did not settle anything: throttled, failing, or an answer GitHub does not document. */
export function notSettled(v: Classified): Outcome {
  if (v.verdict === 'rate_limited') return { status: 'rate_limited', retryAfterMs: v.retryAfterMs, summary: v.summary };
  return { status: 'transient', reason: v.reason, summary: v.summary };
}
