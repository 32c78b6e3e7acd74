// The credentials this process uses right now: configured ones as they are, self-rotated ones followed in Redis.
import type { CredentialSource } from '../../providers/contract.js';
import type { Logger } from '../logger.js';
import type { CredentialStore } from './store.js';

export interface ManagedCredential {
  readonly instance: string;
  readonly credential: 'admin' | 'group';
  readonly configured: string;
  /** Self-rotated: the store holds the credential in use, and its generation tells replicas when it changed. */
  readonly rotated: boolean;
}

/** How long a rotation under way excuses a refused credential (a rotation takes a few GitLab calls). */
const ROTATING_MS = 60_000;

interface InUse {
  token: string;
  generation: number;
}

export class LiveCredentials implements CredentialSource {
  readonly #inUse = new Map<string, InUse>();
  /** Replaced by `reconfigure` (SIGHUP): read it anew each time, never keep an element. */
  #managed: ManagedCredential[];
  #timer: NodeJS.Timeout | undefined;

  constructor(
    managed: readonly ManagedCredential[],
    private readonly store: CredentialStore,
    private readonly logger: Logger,
  ) {
    this.#managed = [...managed];
    // Until Redis answers, the configured value is all there is (and no job can run without Redis anyway).
    for (const m of managed) this.#inUse.set(nameOf(m), { token: m.configured, generation: 0 });
  }

  /**
   * A new configuration (SIGHUP): a credential whose configured value changed is used from now on, as at a restart.
   * Not rotated: at once. Self-rotated: adopted into the store at the next sync, since a value the store has never
   * seen replaces the stored one (the operator's way out of a lost rotation). Returns the names that changed.
   * Credentials of instances not configured at start, and changes of rotation settings, still need a restart.
   */
  reconfigure(next: readonly ManagedCredential[]): string[] {
    const changed: string[] = [];
    this.#managed = this.#managed.map((m) => {
      const n = next.find((x) => nameOf(x) === nameOf(m));
      if (n === undefined || n.configured === m.configured) return m;
      changed.push(nameOf(m));
      if (m.rotated) this.#seeded.delete(nameOf(m));
      else this.#inUse.set(nameOf(m), { token: n.configured, generation: 0 });
      return { ...m, configured: n.configured };
    });
    // Only where the store is followed (processes that revoke); elsewhere nothing reads the store.
    if (changed.length > 0 && this.#timer !== undefined) void this.#sync(false);
    return changed;
  }

  get(instance: string, credential: 'admin' | 'group'): string | undefined {
    return this.#inUse.get(credentialName({ instance, credential }))?.token;
  }

  /** The generation this process uses (0: the configured value, not yet read from the store). */
  generation(name: string): number {
    return this.#inUse.get(name)?.generation ?? 0;
  }

  /**
   * After GitLab refused the credential: true when it changed (use the successor) or is being rotated right now
   * (GitLab revoked the predecessor a moment before the successor is committed): retry, do not open the breaker.
   */
  async refresh(instance: string, credential: 'admin' | 'group'): Promise<boolean> {
    const m = this.#managed.find((x) => x.instance === instance && x.credential === credential);
    if (m === undefined || !m.rotated) return false;
    const seen = await this.#load(m);
    return seen === 'changed' || seen === 'rotating';
  }

  /** Seeds the self-rotated credentials, then re-reads them every `everyMs` so each replica follows a rotation. */
  async start(everyMs: number): Promise<void> {
    await this.#sync(true);
    this.#timer = setInterval(() => void this.#sync(false), everyMs);
    this.#timer.unref();
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
  }

  /** Seeding is retried at each sync until Redis has answered once for every credential. */
  readonly #seeded = new Set<string>();

  async #sync(first: boolean): Promise<void> {
    for (const m of this.#managed.filter((x) => x.rotated)) {
      try {
        if (!this.#seeded.has(nameOf(m))) {
          const generation = await this.store.seed(nameOf(m), m.configured);
          if (generation > 0) this.logger.warn({ credential: nameOf(m), generation }, 'configured credential adopted into the credential store: from now on the store follows its rotations');
          this.#seeded.add(nameOf(m));
        }
        await this.#load(m);
      } catch (err) {
        const level = first ? 'error' : 'debug';
        this.logger[level]({ credential: nameOf(m), err: (err as Error).message }, 'cannot read the credential store; using the credential held in memory until Redis answers');
      }
    }
  }

  async #load(m: ManagedCredential): Promise<'changed' | 'rotating' | 'same'> {
    const stored = await this.store.current(nameOf(m));
    const held = this.#inUse.get(nameOf(m));
    if (stored === undefined) return 'same';
    if (held !== undefined && held.generation === stored.generation) {
      // An intent older than this is a rotation whose outcome is still unknown: the breaker, not retries, holds jobs then.
      return stored.rotatingSince !== undefined && Date.now() - stored.rotatingSince < ROTATING_MS ? 'rotating' : 'same';
    }
    this.#inUse.set(nameOf(m), { token: stored.token, generation: stored.generation });
    if (held !== undefined && held.generation > 0) this.logger.info({ credential: nameOf(m), generation: stored.generation }, 'credential rotated: this process now uses the new generation');
    return 'changed';
  }
}

/** `instance:credential`: the name breakers, metrics, status and the store use. */
export const credentialName = (m: Pick<ManagedCredential, 'instance' | 'credential'>): string => `${m.instance}:${m.credential}`;
const nameOf = credentialName;
