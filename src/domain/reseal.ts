// Key rotation's one re-seal step, for queued tokens and stored credentials alike: open a sealed value with whichever
// configured key made it, and seal it again under the newest key with the same binding.
import { newestKey, open, seal, sealedKeyId, type EncryptionKey } from './crypto.js';

/** What a re-seal run found: values re-sealed, values already under the newest key, and the old key ids still needed. */
export interface ResealReport {
  readonly rekeyed: number;
  readonly current: number;
  readonly stillUsed: string[];
}

export class Resealer {
  #rekeyed = 0;
  #current = 0;
  readonly #stillUsed = new Set<string>();
  readonly #newest: EncryptionKey;

  constructor(private readonly keys: readonly EncryptionKey[]) {
    this.#newest = newestKey(keys);
  }

  /**
   * Re-seals one value bound to `aad`, unless it is under the newest key already. `write` stores the new value and
   * says whether it did (a compare-and-set finds a value changed meanwhile). A value no configured key opens, or whose
   * write fails, is left as it is, and its key id reported as still used.
   */
  async reseal(sealed: string, aad: string, write: (resealed: string) => Promise<boolean>): Promise<void> {
    const kid = sealedKeyId(sealed);
    if (kid === this.#newest.id) {
      this.#current++;
      return;
    }
    try {
      if (await write(seal(open(sealed, this.keys, aad), this.#newest, aad))) this.#rekeyed++;
    } catch {
      if (kid) this.#stillUsed.add(kid);
    }
  }

  /** A value not re-sealed now (a running job's): its key is still used, unless it is the newest. */
  skip(sealed: string): void {
    const kid = sealedKeyId(sealed);
    if (kid && kid !== this.#newest.id) this.#stillUsed.add(kid);
  }

  report(): ResealReport {
    return { rekeyed: this.#rekeyed, current: this.#current, stillUsed: [...this.#stillUsed] };
  }
}
