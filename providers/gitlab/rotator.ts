// Keeps each instance's credentials alive: reads their expiry and, where opted in, rotates them before they expire,
// across replicas, without ever rotating a token twice (GitLab would revoke the whole family, successor included).
import { expiryTime, type CredentialVault, type Lock, type RotationTarget, type StoredCredential } from '../../src/domain/credentials.js';
import type { Logger } from '../../src/logger.js';
import type { CredentialBreakers, CredentialMaintenance, CredentialSource, RotationPolicy, RotationResult } from '../contract.js';
import type { Credential, GitLabInstance } from './instance.js';
import { checkSelf, ROTATION_SCOPES, rotateSelf, type SelfCheck } from './self-token.js';

const DAY_MS = 86_400_000;

export interface Target {
  readonly instance: GitLabInstance;
  readonly credential: Credential;
  /** Opted in to self-rotation through this endpoint; undefined: expiry is only watched. */
  readonly rotation: RotationTarget | undefined;
}

export interface RotatorDeps {
  readonly targets: readonly Target[];
  readonly store: CredentialVault;
  readonly live: CredentialSource;
  readonly breakers: CredentialBreakers;
  readonly policy: RotationPolicy;
  readonly logger: Logger;
  readonly onRotation?: (credential: string, result: RotationResult) => void;
}

export class CredentialRotator {
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;

  constructor(private readonly d: RotatorDeps) {}

  /** Checks every credential now (recovering any interrupted rotation), then every `checkMs`. */
  start(): void {
    const tick = (): void => {
      this.#running ??= this.checkAll().finally(() => (this.#running = undefined));
    };
    tick();
    this.#timer = setInterval(tick, this.d.policy.checkMs);
    this.#timer.unref();
  }

  async stop(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    await this.#running;
  }

  async checkAll(): Promise<void> {
    for (const t of this.d.targets) {
      await this.check(t).catch((err: Error) => this.d.logger.warn({ credential: nameOf(t), err: err.message }, 'credential check failed; will try again at the next check'));
    }
  }

  /** One credential: observe it and, if opted in and due, rotate it under the lock. */
  async check(t: Target): Promise<void> {
    if (t.rotation === undefined) return this.#watch(t);
    const lock = await this.d.store.lock(nameOf(t), this.d.policy.lockMs);
    if (!lock) return; // another replica is checking or rotating it right now
    try {
      await this.#checkLocked(t, t.rotation, lock);
    } finally {
      await this.d.store.unlock(nameOf(t), lock);
    }
  }

  /** Not rotated by us: read its expiry so that metrics, status and an alert say when someone must replace it. */
  async #watch(t: Target): Promise<void> {
    const token = t.instance.credential(t.credential);
    if (token === undefined) return;
    const seen = await this.#observe(t, await checkSelf(t.instance, token));
    if (seen.kind === 'active' && this.#expiresWithin(seen.expiresAt, this.d.policy.rotateBeforeMs)) {
      this.#alert(t, 'expiring_without_rotation', `expires on ${seen.expiresAt}; self-rotation is off for it: replace it, or enable rotation (see README, "Credentials")`);
    }
  }

  async #checkLocked(t: Target, rotation: RotationTarget, lock: Lock): Promise<void> {
    let stored = await this.d.store.read(nameOf(t));
    if (stored.current === undefined) return; // not seeded yet (Redis was down at start): the next check
    if (stored.intent !== undefined) {
      await this.#recover(t, lock, stored);
      stored = await this.d.store.read(nameOf(t));
      if (stored.intent !== undefined || stored.current === undefined) return;
    }
    if (stored.lost !== undefined && stored.candidate !== undefined) {
      // A successor rescued after the loss was recorded (see #persistCandidate): it may still save the credential.
      return this.#promote(t, lock, stored.generation, this.d.store.open(nameOf(t), stored.candidate), 'recovered');
    }
    if (stored.lost !== undefined) {
      this.#alert(t, stored.lost.reason, `${stored.lost.summary}. Jobs that need it are held. Create a new token and configure it; the service adopts it at start`);
      return;
    }
    const token = this.d.store.open(nameOf(t), stored.current);
    const seen = await this.#observe(t, await checkSelf(t.instance, token));
    if (seen.kind !== 'active') return;
    if (!seen.scopes.some((s) => ROTATION_SCOPES.includes(s))) {
      return this.#cannotRotate(t, 'insufficient_scope', `the token has scopes [${seen.scopes.join(', ')}]; self-rotation needs api or self_rotate`);
    }
    if (!this.#due(seen.expiresAt, stored)) {
      // Rotatable and not due: whatever kept it from rotating before is over.
      if (stored.problem !== undefined) await this.d.store.observe(nameOf(t), {}, ['problem']);
      await this.d.breakers.close(t.instance.rotationBreakerName(t.credential));
      return;
    }
    await this.#rotate(t, rotation, lock, stored, token);
  }

  async #rotate(t: Target, rotation: RotationTarget, lock: Lock, stored: StoredCredential, token: string): Promise<void> {
    const name = nameOf(t);
    // Write-ahead: whoever finds this intent later knows GitLab may have rotated, and recovers instead of rotating.
    const intent = JSON.stringify({ fence: lock.fence, at: this.#iso() });
    if (!(await this.d.store.fenced(name, lock, stored.generation, { intent }))) return;
    // The request must finish well inside the lock, or a successor could take the token for unrotated and rotate it too.
    if ((await this.d.store.remaining(name, lock)) < 2 * this.d.policy.callTimeoutMs) {
      await this.d.store.fenced(name, lock, stored.generation, {}, ['intent']);
      return;
    }
    const expiresAt = new Date(this.#now() + this.d.policy.lifetimeDays * DAY_MS).toISOString().slice(0, 10);
    const result = await rotateSelf(t.instance, token, rotation, expiresAt);
    if (result.kind === 'rotated') {
      // First thing after the answer: make the successor durable. Only then is it verified and used.
      if (!(await this.#persistCandidate(t, lock, stored.generation, result.token))) return;
      await this.#promote(t, lock, stored.generation, result.token, 'rotated');
      return;
    }
    if (result.kind === 'refused') {
      await this.d.store.fenced(name, lock, stored.generation, {}, ['intent']);
      this.d.onRotation?.(name, 'refused');
      return this.#cannotRotate(t, result.reason, `GitLab refused the rotation: ${result.summary}`);
    }
    this.d.onRotation?.(name, 'unknown');
    this.d.logger.warn({ credential: name, reason: result.reason, summary: result.summary }, 'rotation answer lost or unclear: recovering (never retrying blindly)');
    await this.#recover(t, lock, await this.d.store.read(name));
  }

  async #persistCandidate(t: Target, lock: Lock, generation: number, token: string): Promise<boolean> {
    const name = nameOf(t);
    const sealed = this.d.store.seal(name, token);
    for (let delay = 50; ; delay = Math.min(delay * 2, 1000)) {
      try {
        if (await this.d.store.fenced(name, lock, generation, { candidate: sealed })) return true;
        // Our lock lapsed while GitLab answered (a long pause of this process). We hold the only copy of the successor:
        // hand it to whoever took over rather than drop it; it is promoted even if the credential was marked lost.
        const rescued = await this.d.store.rescueCandidate(name, generation, sealed);
        this.#alert(t, 'rotation_fenced_out', rescued ? 'another process took over this rotation while GitLab answered; the successor is stored for it to promote' : 'another process took over this rotation and the credential changed meanwhile; this successor is discarded');
        return false;
      } catch (err) {
        if ((await this.d.store.remaining(name, lock).catch(() => 0)) < 1000) {
          this.#alert(t, 'rotation_not_persisted', `the successor could not be stored (${(err as Error).message}); the next check finds the rotation half done`);
          return false;
        }
        await new Promise((r) => setTimeout(r, delay));
      }
    }
  }

  /** The successor is stored: prove it works, then make it the credential in use for every replica. */
  async #promote(t: Target, lock: Lock, generation: number, candidate: string, result: RotationResult): Promise<void> {
    const name = nameOf(t);
    const seen = await checkSelf(t.instance, candidate);
    if (seen.kind === 'unknown') return; // the intent and candidate stay; the next check finishes the job
    if (seen.kind === 'refused') return this.#markLost(t, lock, generation, `the stored successor is refused by GitLab (${seen.reason})`, true);
    const committed = await this.d.store.fenced(
      name,
      lock,
      generation,
      { current: this.d.store.seal(name, candidate), generation: String(generation + 1), rotatedAt: this.#iso(), expiresAt: seen.expiresAt ?? '', checkedAt: this.#iso() },
      ['intent', 'candidate', 'problem', 'lost'],
    );
    if (!committed) return;
    await this.d.live.refresh(t.instance.name, t.credential);
    await this.d.breakers.close(t.instance.rotationBreakerName(t.credential));
    await this.d.breakers.close(t.instance.breakerName(t.credential));
    this.d.onRotation?.(name, result);
    this.d.logger.warn({ credential: name, generation: generation + 1, expiresAt: seen.expiresAt }, result === 'rotated' ? 'credential rotated' : 'interrupted rotation recovered: the stored successor is now in use');
  }

  /** An intent with no outcome: finish it from the stored successor, or learn from GitLab whether it rotated. */
  async #recover(t: Target, lock: Lock, stored: StoredCredential): Promise<void> {
    const name = nameOf(t);
    if (stored.candidate !== undefined) return this.#promote(t, lock, stored.generation, this.d.store.open(name, stored.candidate), 'recovered');
    if (stored.current === undefined) return;
    const seen = await checkSelf(t.instance, this.d.store.open(name, stored.current));
    if (seen.kind === 'unknown') return; // keep the intent: still no rotation until GitLab tells us
    if (seen.kind === 'active') {
      // A request we gave up on may still be in flight at GitLab: only once it cannot be any more does "still
      // active" prove that GitLab never rotated, so that the rotation may be tried again.
      const age = this.#now() - Date.parse(stored.intent?.at ?? '');
      if (!(age >= 2 * this.d.policy.callTimeoutMs)) return;
      await this.d.store.fenced(name, lock, stored.generation, {}, ['intent']);
      this.d.logger.warn({ credential: name }, 'interrupted rotation never reached GitLab: the credential is unchanged');
      return;
    }
    // The candidate is kept: a rotator whose lock lapsed may still rescue its successor into it (#persistCandidate).
    await this.#markLost(t, lock, stored.generation, 'GitLab rotated the credential but its answer was lost before the successor was stored', false);
  }

  async #markLost(t: Target, lock: Lock, generation: number, summary: string, dropCandidate: boolean): Promise<void> {
    const name = nameOf(t);
    await this.d.store.fenced(name, lock, generation, { lost: JSON.stringify({ reason: 'rotation_answer_lost', summary, at: this.#iso() }) }, dropCandidate ? ['intent', 'candidate'] : ['intent']);
    this.d.onRotation?.(name, 'lost');
    await this.d.breakers.open(t.instance.breakerName(t.credential), 'rotation_answer_lost');
    this.#alert(t, 'rotation_answer_lost', `${summary}. It is never rotated again (that would revoke the token family). Jobs that need it are held. Create a new token and configure it`);
  }

  async #cannotRotate(t: Target, reason: string, summary: string): Promise<void> {
    await this.d.store.observe(nameOf(t), { problem: JSON.stringify({ reason, summary, at: this.#iso() }) });
    // A breaker that holds no job (the credential still works), so readiness, status and metrics all show it.
    await this.d.breakers.open(t.instance.rotationBreakerName(t.credential), reason, 'credential cannot be rotated: breaker OPEN. It still works and no job is held; it must be fixed before it expires.');
    this.#alert(t, reason, `cannot be rotated: ${summary}. Fix this before it expires`);
  }

  /** Records what GitLab said about the credential in use; a refused credential raises its breaker. */
  async #observe(t: Target, seen: SelfCheck): Promise<SelfCheck> {
    const name = nameOf(t);
    if (seen.kind === 'active') {
      await this.d.store.observe(name, { expiresAt: seen.expiresAt ?? '', checkedAt: this.#iso() }, t.rotation === undefined ? ['problem'] : []);
    } else if (seen.kind === 'refused') {
      await this.d.store.observe(name, { checkedAt: this.#iso(), problem: JSON.stringify({ reason: seen.reason, summary: seen.summary, at: this.#iso() }) });
      await this.d.breakers.open(t.instance.breakerName(t.credential), seen.reason);
      this.#alert(t, seen.reason, `GitLab refuses it (${seen.summary}). Jobs that need it are held. Replace it`);
    } else {
      this.d.logger.warn({ credential: name, reason: seen.reason, summary: seen.summary }, 'cannot read the credential\'s own record from GitLab; will try again at the next check');
    }
    return seen;
  }

  #due(expiresAt: string | null, stored: StoredCredential): boolean {
    if (this.#expiresWithin(expiresAt, this.d.policy.rotateBeforeMs)) return true;
    const since = Date.parse(stored.rotatedAt ?? stored.seededAt ?? '');
    return this.d.policy.periodMs !== undefined && Number.isFinite(since) && this.#now() - since >= this.d.policy.periodMs;
  }

  #expiresWithin(expiresAt: string | null, ms: number): boolean {
    const at = expiryTime(expiresAt);
    return at !== undefined && at - this.#now() <= ms;
  }

  /** What on-call must act on: level error, `alert: true`, the credential's name and never its value. */
  #alert(t: Target, reason: string, summary: string): void {
    this.d.logger.error({ alert: true, credential: nameOf(t), instance: t.instance.name, reason }, `ALERT credential ${nameOf(t)}: ${summary}`);
  }

  #now(): number {
    return Date.now();
  }

  #iso(): string {
    return new Date(this.#now()).toISOString();
  }
}

const nameOf = (t: Target): string => t.instance.breakerName(t.credential);

const CREDENTIALS: readonly Credential[] = ['admin', 'group'];

/** Checks (and, where opted in, rotates) every credential of these instances at start and every `checkMs`; returns what stops it. */
export function keepCredentials(instances: readonly GitLabInstance[], breakers: CredentialBreakers, m: CredentialMaintenance): () => Promise<void> {
  const targets: Target[] = instances.flatMap((instance) =>
    CREDENTIALS.filter((c) => instance.credential(c) !== undefined).map((credential) => ({ instance, credential, rotation: instance.settings.rotation[credential] })),
  );
  const rotator = new CredentialRotator({ targets, store: m.vault, live: m.live, breakers, logger: m.logger, policy: m.policy, ...(m.onRotation ? { onRotation: m.onRotation } : {}) });
  rotator.start();
  return () => rotator.stop();
}
