// The one contract every provider implements: given a leaked token, make it stop working, and say what happened.
import type { Outcome } from '../src/domain/outcome.js';
import type { TokenKind } from '../src/domain/token-kinds.js';

export interface RevokeRequest {
  /** The leaked token, decrypted for this call only. Never log it, never put it in an outcome. */
  readonly token: string;
  readonly kind: TokenKind;
  /** The fingerprint, for log lines. */
  readonly fingerprint: string;
}

/**
 * A provider revokes the kinds of token it lists. It never throws for an answer it received:
 * every answer and every network failure becomes an Outcome, and the queue decides what to do with it.
 * Providers do not retry; the queue owns retries.
 */
export interface Provider {
  /** Stable name, used in outcomes and logs. */
  readonly name: string;
  readonly kinds: readonly TokenKind[];
  revoke(request: RevokeRequest): Promise<Outcome>;
}
