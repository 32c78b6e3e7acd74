// Our GitLab credentials as one unit: which ones there are, the store that follows their rotations, starting the
// provider's rotator (providers/gitlab/rotator.ts), and what status and metrics report about them.
import type { Cluster, Redis } from 'ioredis';
import type { Provider, RotationResult } from '../../providers/contract.js';
import type { Config, InstanceConfig } from '../config/index.js';
import { describeRotation } from '../domain/credentials.js';
import type { EncryptionKey } from '../domain/crypto.js';
import type { CredentialStatus } from '../domain/ports.js';
import type { Logger } from '../logger.js';
import { credentialName, LiveCredentials, type ManagedCredential } from './live.js';
import { CredentialStore, type Replicated } from './store.js';

export { credentialName, LiveCredentials } from './live.js';
export { CredentialStore } from './store.js';

/** How often each replica re-reads a self-rotated credential's generation (a cheap HMGET). */
const FOLLOW_MS = 2000;

const CREDENTIALS = ['admin', 'group'] as const;

/** Every configured credential of every instance. */
export function managedCredentials(instances: readonly InstanceConfig[]): ManagedCredential[] {
  return instances.flatMap((i) =>
    CREDENTIALS.flatMap((credential) => {
      const configured = credential === 'admin' ? i.adminToken : i.group?.token;
      return configured === undefined ? [] : [{ instance: i.name, credential, configured, rotated: i.rotation[credential] !== undefined }];
    }),
  );
}

/** `replicated`: a gate on `redis` itself (the connection the store writes on), for the successors it stores. */
export function openCredentials(redis: Redis | Cluster, keys: () => readonly EncryptionKey[], instances: readonly InstanceConfig[], logger: Logger, replicated?: Replicated): { store: CredentialStore; live: LiveCredentials } {
  const store = new CredentialStore(redis, keys, replicated);
  return { store, live: new LiveCredentials(managedCredentials(instances), store, logger) };
}

export interface MaintenanceDeps {
  readonly config: Config;
  /** The providers built: those that keep their own credentials (GitLab) are started. */
  readonly providers: readonly Provider[];
  readonly store: CredentialStore;
  readonly live: LiveCredentials;
  readonly logger: Logger;
  readonly onRotation?: (credential: string, result: RotationResult) => void;
}

/**
 * In processes that revoke: adopt the configured credentials, follow their rotations, and have each provider check
 * (and, where opted in, rotate) them at start and every CREDENTIAL_CHECK_SECONDS. Returns what stops it.
 */
export async function maintainCredentials(d: MaintenanceDeps): Promise<() => Promise<void>> {
  await d.live.start(FOLLOW_MS);
  const timeout = d.config.gitlabTimeoutMs;
  // Three GitLab calls (read, rotate, verify) and a margin: the lock outlives any request sent under it.
  const policy = { ...d.config.credentials, lockMs: 4 * timeout + 2000, callTimeoutMs: timeout };
  const stops = d.providers.flatMap((p) => (p.maintainCredentials ? [p.maintainCredentials({ vault: d.store, live: d.live, policy, logger: d.logger, onRotation: d.onRotation })] : []));
  return async () => {
    await Promise.all(stops.map((stop) => stop()));
    d.live.stop();
  };
}

/** What `trapi status` and `/admin/status` show per credential (never the credential itself). */
export async function credentialStatus(store: CredentialStore, instances: readonly InstanceConfig[]): Promise<Record<string, CredentialStatus>> {
  const out: Record<string, CredentialStatus> = {};
  for (const m of managedCredentials(instances)) {
    const name = credentialName(m);
    const s = await store.read(name);
    const instance = instances.find((i) => i.name === m.instance);
    const problem = s.lost ?? s.problem;
    out[name] = {
      rotation: describeRotation(instance?.rotation[m.credential]),
      generation: s.generation,
      expiresAt: s.expiresAt === undefined ? 'unknown' : (s.expiresAt ?? 'never'),
      lastRotatedAt: s.rotatedAt ?? null,
      checkedAt: s.checkedAt ?? null,
      rotating: s.intent !== undefined,
      ...(problem ? { problem } : {}),
    };
  }
  return out;
}
