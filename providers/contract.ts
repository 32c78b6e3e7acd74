// The one contract every provider implements, and the shared services a provider is given (never builds itself).
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

/** Outbound discipline shared by every worker process: a request rate and a concurrency cap per key (an instance). */
export interface OutboundLimiter {
  run<T>(key: string, limits: { readonly perSecond: number; readonly concurrency: number }, call: () => Promise<T>): Promise<T>;
}

export interface BreakerState {
  readonly reason: string;
  readonly since: string;
}

/**
 * Credential breakers, shared by every process: while a credential is refused, nobody uses it.
 * `open`/`close` resolve true only for the caller that changed the state, so exactly one log line is written per change.
 */
export interface CredentialBreakers {
  isOpen(name: string): Promise<boolean>;
  /** `message` replaces the default log line (a breaker that holds no job says so). */
  open(name: string, reason: string, message?: string): Promise<boolean>;
  close(name: string): Promise<boolean>;
  states(): Promise<Readonly<Record<string, BreakerState>>>;
}

/**
 * Where an instance's credentials come from. Read at every use: self-rotation replaces a credential while the
 * service runs, and every replica must switch to the successor without a restart.
 */
export interface CredentialSource {
  /** The credential to use now; undefined when none is configured. */
  get(instance: string, credential: 'admin' | 'group'): string | undefined;
  /** Re-reads a rotated credential from the shared store; true when it changed (another replica rotated it). */
  refresh(instance: string, credential: 'admin' | 'group'): Promise<boolean>;
}

/** Credentials exactly as configured: for processes that never rotate (the CLI, the API role) and for tests. */
export function configuredCredentials(instances: readonly { readonly name: string; readonly adminToken: string | undefined; readonly group: { readonly token: string } | undefined }[]): CredentialSource {
  return {
    get: (name, credential) => {
      const i = instances.find((x) => x.name === name);
      return credential === 'admin' ? i?.adminToken : i?.group?.token;
    },
    refresh: () => Promise.resolve(false),
  };
}
