// Installation tokens (`ghs_`), which /credentials/revoke does not take: the token deletes itself, then is seen refused.
import type { Outcome } from '../../src/domain/outcome.js';
import type { RevokeRequest } from '../contract.js';
import { awaitingConfirmation, notSettled, revokedConfirmed, stillActive, VIA_INSTALLATION } from './outcomes.js';
import type { Submission, Submissions } from './submissions.js';
import type { TokenCalls } from './token-calls.js';

export interface InstallationOptions {
  readonly calls: TokenCalls;
  readonly submissions: Submissions;
  readonly confirmAfterMs: number;
  readonly resubmitAfterMs: number;
  readonly maxSubmissions: number;
}

export async function revokeInstallationToken(o: InstallationOptions, { token, fingerprint }: RevokeRequest): Promise<Outcome> {
  const sub = await o.submissions.get(fingerprint);
  if (!sub) return deleteAndConfirm(o, token, fingerprint, undefined);
  const check = await o.calls.installationRepositories(token);
  if (check.verdict === 'unauthorized') return revokedConfirmed(VIA_INSTALLATION);
  if (check.verdict !== 'ok' && check.verdict !== 'forbidden') return notSettled(check);
  const age = Date.now() - sub.submittedAt;
  if (age < o.resubmitAfterMs) return awaitingConfirmation(Math.min(o.confirmAfterMs, o.resubmitAfterMs - age) || 1, `installation token still answers ${check.summary} after DELETE`);
  if (sub.submissions >= o.maxSubmissions) return stillActive(sub.submissions);
  return deleteAndConfirm(o, token, fingerprint, sub);
}

async function deleteAndConfirm(o: InstallationOptions, token: string, fingerprint: string, previous: Submission | undefined): Promise<Outcome> {
  const deleted = await o.calls.deleteInstallationToken(token);
  // Refused before we ever deleted it: it was dead already. Refused on a later attempt: our earlier DELETE took effect.
  if (deleted.verdict === 'unauthorized') return previous ? revokedConfirmed(VIA_INSTALLATION) : { status: 'already_gone', via: VIA_INSTALLATION, confirmed: true };
  if (deleted.verdict === 'rate_limited' || deleted.verdict === 'transient') return notSettled(deleted);
  if (deleted.verdict !== 'ok') return { status: 'permanent', reason: deleted.reason, summary: `DELETE /installation/token: ${deleted.summary}` };
  await o.submissions.record(fingerprint, previous?.submissions ?? 0);
  const check = await o.calls.installationRepositories(token);
  if (check.verdict === 'unauthorized') return revokedConfirmed(VIA_INSTALLATION);
  // Deleted but not yet seen refused (or the check failed): come back and check again, without deleting again.
  return awaitingConfirmation(o.confirmAfterMs || 1, `DELETE /installation/token answered 204; confirmation check answered ${check.summary}`);
}
