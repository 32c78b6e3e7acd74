// One GitLab instance as the strategies see it: its client, credentials, limits, strategy order and what it lacks.
import type { HttpClient } from '../http-client.js';
import type { RotationTarget } from '../../src/domain/credentials.js';
import type { StrategyName, TokenKind } from './kinds.js';
import type { CredentialSource, OutboundLimiter } from '../contract.js';
import { call, type Answer } from './client.js';

export interface InstanceSettings {
  readonly name: string;
  readonly url: string;
  readonly adminToken: string | undefined;
  /** A top-level group's owner credential, for the `group` strategy. */
  readonly group: { readonly id: number; readonly token: string } | undefined;
  /** Instance-wide token prefix (`mycompany-`): tokens carrying it are tried here first. */
  readonly tokenPrefix: string | undefined;
  readonly limits: { readonly perSecond: number; readonly concurrency: number };
  readonly strategies: readonly StrategyName[];
  /** Self-rotation of each credential (opt-in): the endpoint its kind of token rotates at. */
  readonly rotation: { readonly admin: RotationTarget | undefined; readonly group: RotationTarget | undefined };
}

export type Credential = 'admin' | 'group';

/** How long an endpoint found unavailable (flag off, absent, kind unsupported) is skipped before being tried again. */
export interface Availability {
  /** Why the key was found unavailable (a Classified reason and summary), while it is remembered. */
  unavailable(key: string): { readonly reason: string; readonly summary: string } | undefined;
  markUnavailable(key: string, why: { readonly reason: string; readonly summary: string }): void;
  /** How long until a remembered key is looked at again; undefined when it is not remembered. */
  expiresInMs(key: string): number | undefined;
}

export class GitLabInstance {
  constructor(
    readonly settings: InstanceSettings,
    private readonly client: HttpClient,
    private readonly limiter: OutboundLimiter,
    readonly availability: Availability,
    private readonly credentials: CredentialSource,
  ) {}

  get name(): string {
    return this.settings.name;
  }

  /** Breaker name of one of this instance's credentials. */
  breakerName(credential: Credential): string {
    return `${this.name}:${credential}`;
  }

  /** Breaker raised while a credential cannot be rotated; it holds no job (the credential still works). */
  rotationBreakerName(credential: Credential): string {
    return `${this.breakerName(credential)}:rotation`;
  }

  /** The credential to use now: self-rotation may have replaced the configured one. */
  credential(credential: Credential): string | undefined {
    return this.credentials.get(this.name, credential);
  }

  /** Re-reads a credential another replica may have rotated; true when it changed. */
  refreshCredential(credential: Credential): Promise<boolean> {
    return this.credentials.refresh(this.name, credential);
  }

  /** One HTTP call under this instance's shared rate and concurrency limits. Network failures reject. */
  send(method: 'GET' | 'POST' | 'DELETE', path: string, credential: string | undefined, body?: object, form?: boolean): Promise<Answer> {
    return this.limiter.run(this.name, this.settings.limits, () => call(this.client, method, path, credential, body, form));
  }

  /**
   * One call outside the shared limits, for the rare maintenance of our own credential: a rotation holds a lock
   * whose deadline must not be spent queueing behind revocations.
   */
  sendDirect(method: 'GET' | 'POST', path: string, credential: string, body?: object): Promise<Answer> {
    return call(this.client, method, path, credential, body);
  }

  /** Availability keys: per instance for a missing endpoint or flag, per kind for "type not supported". */
  static availabilityKey(instance: string, strategy: StrategyName, kind?: TokenKind): string {
    return kind ? `${instance}:${strategy}:${kind}` : `${instance}:${strategy}`;
  }
}

/** In-process memory of what is unavailable, with expiry: each process rediscovers at most once per window. */
export class ExpiringSet implements Availability {
  readonly #entries = new Map<string, { until: number; why: { reason: string; summary: string } }>();
  constructor(private readonly ttlMs: number, private readonly now: () => number = Date.now) {}

  unavailable(key: string): { reason: string; summary: string } | undefined {
    const entry = this.#entries.get(key);
    if (entry === undefined) return undefined;
    if (entry.until > this.now()) return entry.why;
    this.#entries.delete(key);
    return undefined;
  }

  markUnavailable(key: string, why: { reason: string; summary: string }): void {
    this.#entries.set(key, { until: this.now() + this.ttlMs, why: { reason: why.reason, summary: why.summary } });
  }

  expiresInMs(key: string): number | undefined {
    const entry = this.unavailable(key) && this.#entries.get(key);
    return entry ? entry.until - this.now() : undefined;
  }
}
