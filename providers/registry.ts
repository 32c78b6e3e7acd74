// Which enabled provider handles a given token type: the union of the kinds every provider declares.
import type { Provider, TokenKindSpec, VulnerabilityFeedback } from './contract.js';

export interface Route {
  readonly provider: Provider;
  readonly kind: TokenKindSpec;
}

export class ProviderRegistry {
  readonly #byType = new Map<string, Route>();

  /** Earlier providers win when two claim the same type string. */
  constructor(readonly providers: readonly Provider[]) {
    for (const provider of providers) {
      for (const kind of provider.kinds) for (const type of kind.types) if (!this.#byType.has(type)) this.#byType.set(type, { provider, kind });
    }
  }

  /** Every type string some enabled provider handles, sorted: what GET /v1/revocable_token_types answers. */
  types(): string[] {
    return [...this.#byType.keys()].sort();
  }

  supports(type: string): boolean {
    return this.#byType.has(type);
  }

  forType(type: string): Route | undefined {
    return this.#byType.get(type);
  }

  /** Asks each provider about a breaker it opened; undefined when none can tell. */
  async probe(breaker: string): Promise<boolean | undefined> {
    for (const p of this.providers) {
      const verdict = await p.probe?.(breaker);
      if (verdict !== undefined) return verdict;
    }
    return undefined;
  }

  /** Where findings' vulnerabilities are told what happened: the first provider offering it (the caller's). */
  feedback(): VulnerabilityFeedback | undefined {
    return this.providers.find((p) => p.feedback !== undefined)?.feedback;
  }

  /** Every credential of ours the providers use, by breaker name. */
  credentials(): string[] {
    return this.providers.flatMap((p) => p.credentials ?? []);
  }

  async close(): Promise<void> {
    await Promise.all(this.providers.map((p) => p.close?.().catch(() => undefined)));
  }
}
