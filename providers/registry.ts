// The explicit list of enabled providers, and which one handles a given token type.
import { kindOfType, typesOfKinds, type TokenKind } from '../src/domain/token-kinds.js';
import type { Provider } from './contract.js';

export class ProviderRegistry {
  readonly #byKind = new Map<TokenKind, Provider>();

  /** Earlier providers win when two handle the same kind. */
  constructor(readonly providers: readonly Provider[]) {
    for (const p of providers) for (const k of p.kinds) if (!this.#byKind.has(k)) this.#byKind.set(k, p);
  }

  /** Every type string some enabled provider handles: what GET /v1/revocable_token_types answers. */
  types(): string[] {
    return typesOfKinds(this.#byKind.keys());
  }

  supports(type: string): boolean {
    const kind = kindOfType(type);
    return kind !== undefined && this.#byKind.has(kind);
  }

  forType(type: string): { provider: Provider; kind: TokenKind } | undefined {
    const kind = kindOfType(type);
    const provider = kind && this.#byKind.get(kind);
    return kind && provider ? { provider, kind } : undefined;
  }
}
