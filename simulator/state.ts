// In-memory token store of the simulated GitLab: records, state transitions and the revocation history.
import { type MakeTokenOptions, type PatSubkind, type TokenKind, isWellFormed, kindOf, makeToken, normalizeInstancePrefix } from './tokens.js';

/** What a test can observe about one token string. */
export type TokenState = 'active' | 'revoked' | 'reset' | 'deleted' | 'unknown';

/** How a revocation came about, so a test can tell the service's calls from its own setup. */
export type RevokedBy = 'admin' | 'self' | 'rotate' | 'family' | 'runner' | 'group' | 'control';

export interface SeedInput {
  token: string;
  /** Inferred from the prefix when omitted. */
  kind?: TokenKind;
  subkind?: PatSubkind;
  id?: number;
  name?: string;
  userId?: number;
  /** The group (or project's group) a token belongs to; the group revoke endpoint checks it. */
  groupId?: number;
  /** The project a project access token belongs to (its self-rotate route checks it). */
  projectId?: number;
  /** Top-level groups the token's user owns (for `POST /groups/:id/tokens/revoke`). */
  ownedGroupIds?: number[];
  scopes?: string[];
  /** `active: false` means revoked (use `expiresAt` in the past for an expired token). */
  active?: boolean;
  revoked?: boolean;
  /** `YYYY-MM-DD` or an ISO timestamp; null means never. */
  expiresAt?: string | null;
  admin?: boolean;
}

export interface TokenRecord {
  token: string;
  kind: TokenKind;
  subkind: PatSubkind | undefined;
  id: number;
  name: string;
  userId: number;
  groupId: number | null;
  projectId: number | null;
  ownedGroupIds: number[];
  scopes: string[];
  revoked: boolean;
  expiresAt: string | null;
  createdAt: string;
  lastUsedAt: string | null;
  admin: boolean;
  /** Rotation family: the id of the first token of the chain. */
  family: number;
}

export interface RevocationEntry {
  token: string;
  kind: TokenKind;
  outcome: 'revoked' | 'reset' | 'deleted';
  by: RevokedBy;
  /** Epoch ms of the first successful revocation. */
  at: number;
  /** Successful state changes (more than 1 only if the token was re-seeded active in between). */
  times: number;
  /** Revoking calls that targeted this token, including failed repeats: "exactly one" means 1. */
  attempts: number;
  /** The replacement token, for resets. */
  replacedBy?: string;
}

export interface LookupHints {
  /** Group id to give an auto-created token (group revoke endpoint). */
  groupId?: number;
}

/** Expired when the expiry date is today or earlier, as GitLab's `expires_at <= CURRENT_DATE`. */
export function isExpired(rec: TokenRecord, now = Date.now()): boolean {
  if (rec.expiresAt === null) return false;
  const t = Date.parse(rec.expiresAt);
  return Number.isFinite(t) && t <= now;
}

export class TokenStore {
  private live = new Map<string, TokenRecord>();
  private retired = new Map<string, 'reset' | 'deleted'>();
  private history = new Map<string, RevocationEntry>();
  private attempts = new Map<string, number>();
  private successors = new Map<string, string>();
  private nextId = 1000;

  constructor(
    public instancePrefix: string | undefined = undefined,
    public autoCreate = false,
  ) {}

  seed(input: SeedInput): TokenRecord {
    const kind = input.kind ?? kindOf(input.token, this.instancePrefix);
    if (!kind) throw new Error('cannot infer the kind of a seeded token from its prefix: pass `kind`');
    const id = input.id ?? this.nextId++;
    const rec: TokenRecord = {
      token: input.token,
      kind,
      subkind: kind === 'personal_access_token' ? (input.subkind ?? 'personal') : undefined,
      id,
      name: input.name ?? `${kind}-${id}`,
      userId: input.userId ?? (input.admin ? 1 : 2),
      groupId: input.groupId ?? null,
      projectId: input.projectId ?? null,
      ownedGroupIds: input.ownedGroupIds ?? [],
      scopes: input.scopes ?? ['api'],
      revoked: input.revoked === true || input.active === false,
      expiresAt: input.expiresAt ?? null,
      createdAt: new Date().toISOString(),
      lastUsedAt: null,
      admin: input.admin ?? false,
      family: id,
    };
    this.live.set(rec.token, rec);
    this.retired.delete(rec.token);
    return rec;
  }

  /** A live (active or revoked) record; reset and deleted tokens are gone, as in GitLab. */
  get(token: string): TokenRecord | undefined {
    return this.live.get(token);
  }

  /** Like get, but in autoCreate mode a well-formed token never seen before becomes an active one. */
  lookup(token: string, hints: LookupHints = {}): TokenRecord | undefined {
    const found = this.live.get(token);
    if (found || !this.autoCreate || this.retired.has(token)) return found;
    if (!isWellFormed(token, this.instancePrefix)) return undefined;
    return this.seed({ token, ...(hints.groupId === undefined ? {} : { groupId: hints.groupId }) });
  }

  stateOf(token: string): TokenState {
    const gone = this.retired.get(token);
    if (gone) return gone;
    const rec = this.live.get(token);
    if (!rec) return 'unknown';
    return rec.revoked ? 'revoked' : 'active';
  }

  /** Counts a revoking call aimed at a token, whatever its answer. */
  noteAttempt(token: string): void {
    this.attempts.set(token, (this.attempts.get(token) ?? 0) + 1);
  }

  revoke(rec: TokenRecord, by: RevokedBy): void {
    rec.revoked = true;
    this.remember(rec, 'revoked', by);
  }

  /** Replaces the token: the old string becomes unknown to the API, a new one takes over the record. */
  reset(rec: TokenRecord, by: RevokedBy): TokenRecord {
    const fresh = makeToken(rec.kind, this.mintOptions(rec.token));
    this.live.delete(rec.token);
    this.retired.set(rec.token, 'reset');
    const next: TokenRecord = { ...rec, token: fresh, revoked: false, createdAt: new Date().toISOString(), lastUsedAt: null };
    this.live.set(fresh, next);
    this.remember(rec, 'reset', by).replacedBy = fresh;
    return next;
  }

  delete(rec: TokenRecord, by: RevokedBy): void {
    this.live.delete(rec.token);
    this.retired.set(rec.token, 'deleted');
    this.remember(rec, 'deleted', by);
  }

  /** Mints the successor of a rotated token in the same family and revokes the old one. */
  rotate(rec: TokenRecord, expiresAt: string): TokenRecord {
    const token = makeToken(rec.kind, this.mintOptions(rec.token));
    const now = new Date().toISOString();
    const fresh: TokenRecord = { ...rec, token, id: this.nextId++, revoked: false, expiresAt, createdAt: now, lastUsedAt: null };
    this.live.set(token, fresh);
    this.successors.set(rec.token, token);
    this.revoke(rec, 'rotate');
    return fresh;
  }

  /** The newest token of a rotation chain (the token itself when never rotated). */
  currentOf(token: string): string {
    let current = token;
    for (let next = this.successors.get(current); next !== undefined; next = this.successors.get(current)) current = next;
    return current;
  }

  /** GitLab's answer to a reused rotated token: every active token of the chain is revoked. */
  revokeFamily(family: number): void {
    for (const rec of this.live.values()) if (rec.family === family && !rec.revoked) this.revoke(rec, 'family');
  }

  revokedTokens(): RevocationEntry[] {
    // Revocations the routes did not count (family, control) still took one attempt each.
    return [...this.history.values()].map((e) => ({ ...e, attempts: this.attempts.get(e.token) ?? e.times }));
  }

  size(): number {
    return this.live.size;
  }

  clear(): void {
    this.live.clear();
    this.retired.clear();
    this.history.clear();
    this.attempts.clear();
    this.successors.clear();
    this.nextId = 1000;
  }

  /** A successor keeps the instance prefix only if the token it replaces had it. */
  private mintOptions(old: string): MakeTokenOptions {
    const inst = this.instancePrefix;
    return inst && old.startsWith(normalizeInstancePrefix(inst)) ? { instancePrefix: inst } : {};
  }

  private remember(rec: TokenRecord, outcome: RevocationEntry['outcome'], by: RevokedBy): RevocationEntry {
    const known = this.history.get(rec.token);
    if (known) {
      known.times += 1;
      known.outcome = outcome;
      return known;
    }
    const entry: RevocationEntry = { token: rec.token, kind: rec.kind, outcome, by, at: Date.now(), times: 1, attempts: 0 };
    this.history.set(rec.token, entry);
    return entry;
  }
}
