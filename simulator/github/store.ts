// The simulated GitHub's tokens: which are alive, and when a revocation GitHub accepted takes effect.
import { prefixOf, type TokenPrefix } from './tokens.js';

export interface TokenRecord {
  readonly prefix: TokenPrefix;
  readonly login: string;
  /** Epoch ms from which the token is refused; undefined while alive. */
  diesAt: number | undefined;
  /** Test knob: GitHub accepts its revocation but it keeps working (to exercise resubmission). */
  survivesRevoke: boolean;
}

export class TokenStore {
  readonly #tokens = new Map<string, TokenRecord>();
  #logins = 0;

  constructor(public autoCreate: boolean) {}

  seed(token: string, opts: { alive?: boolean; survivesRevoke?: boolean } = {}): TokenRecord {
    const prefix = prefixOf(token);
    if (prefix === undefined) throw new Error('GitHub simulator: not a GitHub token prefix');
    const rec: TokenRecord = { prefix, login: `user${++this.#logins}`, diesAt: opts.alive === false ? 0 : undefined, survivesRevoke: opts.survivesRevoke ?? false };
    this.#tokens.set(token, rec);
    return rec;
  }

  /** The live record, or undefined (dead, or never issued). In sandbox mode a token never seen is a live one. */
  live(token: string, now = Date.now()): TokenRecord | undefined {
    let rec = this.#tokens.get(token);
    if (!rec && this.autoCreate && prefixOf(token) !== undefined) rec = this.seed(token);
    return rec && (rec.diesAt === undefined || rec.diesAt > now) ? rec : undefined;
  }

  /** Revoked `delayMs` from now (GitHub works through /credentials/revoke asynchronously); unknown tokens stay unknown. */
  revoke(token: string, delayMs: number, now = Date.now()): boolean {
    const rec = this.live(token, now);
    if (!rec || rec.survivesRevoke) return false;
    rec.diesAt = Math.min(rec.diesAt ?? Infinity, now + delayMs);
    return true;
  }

  clear(): void {
    this.#tokens.clear();
  }
}
