// Our credentials at a vendor: which self-rotate endpoint each uses (its own kind of access token decides), and the
// shared store that follows their rotations (src/credentials/store.ts implements it; the GitLab rotator uses it).

export type RotationTarget = { readonly endpoint: 'personal' } | { readonly endpoint: 'project' | 'group'; readonly id: number };

/** The setting's syntax, shared by the environment variables and the instances file. */
export const ROTATION_SETTING = '^(off|personal|project:[1-9][0-9]{0,9}|group:[1-9][0-9]{0,9})$';

/** `off` → undefined; `personal`, `project:<id>`, `group:<id>` → the target (the value was validated against ROTATION_SETTING). */
export function parseRotationTarget(setting: string | undefined): RotationTarget | undefined {
  if (setting === undefined || setting === 'off') return undefined;
  if (setting === 'personal') return { endpoint: 'personal' };
  const [endpoint, id] = setting.split(':');
  return { endpoint: endpoint === 'project' ? 'project' : 'group', id: Number(id) };
}

export const describeRotation = (t: RotationTarget | undefined): string => (t === undefined ? 'off' : t.endpoint === 'personal' ? 'personal' : `${t.endpoint}:${t.id}`);

/** When a credential stops working, in epoch ms: GitLab's `expires_at` is a date, the token expires as that day begins (UTC). */
export function expiryTime(expiresAt: string | null | undefined): number | undefined {
  if (!expiresAt) return undefined;
  const at = Date.parse(expiresAt.length === 10 ? `${expiresAt}T00:00:00Z` : expiresAt);
  return Number.isFinite(at) ? at : undefined;
}

/** `instance:credential`, as the breakers name it. */
export type CredentialName = string;

/** A rotation under way: written before GitLab is asked, so a successor process knows to recover. */
export interface Intent {
  readonly fence: number;
  readonly at: string;
}

export interface Problem {
  readonly reason: string;
  readonly summary: string;
  readonly at: string;
}

/** Everything the store holds about one credential; `current` and `candidate` stay sealed until asked for. */
export interface StoredCredential {
  readonly generation: number;
  readonly current: string | undefined;
  readonly candidate: string | undefined;
  readonly intent: Intent | undefined;
  /** The successor was lost with a rotation answer: never rotate again until a new credential is configured. */
  readonly lost: Problem | undefined;
  /** Why the credential cannot be rotated (or is refused), while that lasts. */
  readonly problem: Problem | undefined;
  readonly expiresAt: string | null | undefined;
  readonly rotatedAt: string | undefined;
  readonly seededAt: string | undefined;
  readonly checkedAt: string | undefined;
}

export interface Lock {
  readonly owner: string;
  readonly fence: number;
}

/** The sealed, fenced store of our self-rotated credentials, as the rotator sees it. */
export interface CredentialVault {
  read(name: CredentialName): Promise<StoredCredential>;
  open(name: CredentialName, sealed: string): string;
  seal(name: CredentialName, token: string): string;
  /** One rotator at a time across all replicas. The fence orders lock holders: a stale holder's writes are refused. */
  lock(name: CredentialName, ttlMs: number): Promise<Lock | undefined>;
  /** Milliseconds left on our lock; 0 when it is no longer ours. */
  remaining(name: CredentialName, lock: Lock): Promise<number>;
  unlock(name: CredentialName, lock: Lock): Promise<void>;
  /** Applies `set` and `del` only if no later lock holder wrote and the generation is still `generation`. */
  fenced(name: CredentialName, lock: Lock, generation: number | undefined, set: Record<string, string>, del?: readonly string[]): Promise<boolean>;
  /** Stores a successor whose rotator lost its lock, for the new lock holder to promote (see the store). */
  rescueCandidate(name: CredentialName, generation: number, sealed: string): Promise<boolean>;
  /** Observations anyone may write (what the vendor said about the credential): they decide nothing. */
  observe(name: CredentialName, set: Record<string, string>, del?: readonly string[]): Promise<void>;
}
