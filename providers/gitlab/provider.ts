// The GitLab provider: tries a token on each instance, and on each the strategies its kind allows, in the configured order.
import { isGone, type Outcome } from '../../src/domain/outcome.js';
import { KIND_RULES, kindSpec, rulesOf, type TokenKind } from './kinds.js';
import type { CredentialBreakers, CredentialMaintenance, Provider, RevokeRequest, TokenKindSpec, VulnerabilityFeedback } from '../contract.js';
import { classify } from './classify.js';
import { GitLabInstance } from './instance.js';
import { keepCredentials } from './rotator.js';
import { STRATEGY } from './strategies/index.js';
import type { Step, Strategy } from './strategies/step.js';

/** A syntactically valid token no instance issued: asking about it tells whether our credential is accepted. */
const PROBE_TOKEN = 'glpat-trapicredentialprobe0';

export class GitLabProvider implements Provider {
  readonly name = 'gitlab';
  readonly kinds: readonly TokenKindSpec[];
  readonly credentials: readonly string[];

  constructor(
    readonly instances: readonly GitLabInstance[],
    private readonly breakers: CredentialBreakers,
    /** Notes (and resolves) on the findings' vulnerabilities, on the first instance; undefined when off. */
    readonly feedback?: VulnerabilityFeedback,
  ) {
    // A kind is offered only when some instance has some strategy for it that it can run.
    this.kinds = KIND_RULES.filter((k) => instances.some((i) => this.#strategiesFor(i, k.kind).length > 0)).map(kindSpec);
    this.credentials = instances.flatMap((i) => (['admin', 'group'] as const).filter((c) => i.credential(c) !== undefined).map((c) => i.breakerName(c)));
  }

  async revoke(request: RevokeRequest): Promise<Outcome> {
    const { token } = request;
    const kind = rulesOf(request.kind).kind;
    const steps: Step[] = [];
    const where = new Map<Step, string>();
    for (const instance of this.#order(token)) {
      const found = await this.#onInstance(instance, token, kind);
      const gone = found.find(isGone);
      if (gone) return { ...gone, instance: instance.name };
      for (const step of found) where.set(step, instance.name);
      steps.push(...found);
    }
    return named(conclude(steps), steps, where);
  }

  /** Our admin and group credentials: their expiry watched and, where opted in, rotated (rotator.ts). */
  maintainCredentials(m: CredentialMaintenance): () => Promise<void> {
    return keepCredentials(this.instances, this.breakers, m);
  }

  /** Whether a credential works again; used by the breaker monitor. `undefined`: cannot tell right now. */
  async probe(breakerName: string): Promise<boolean | undefined> {
    // A rotation breaker holds no job and closes when a rotation succeeds: the rotator owns it.
    if (this.instances.some((i) => breakerName === i.rotationBreakerName('admin') || breakerName === i.rotationBreakerName('group'))) return undefined;
    const instance = this.instances.find((i) => breakerName === i.breakerName('admin') || breakerName === i.breakerName('group'));
    // Another provider's breaker, or one of an instance no longer configured (nothing to hold jobs for: close it).
    if (!instance) return /:(admin|group)$/.test(breakerName) ? true : undefined;
    const isAdmin = breakerName === instance.breakerName('admin');
    const credential = instance.credential(isAdmin ? 'admin' : 'group');
    // The very endpoint the strategy uses, so that "works" means "may revoke", not merely "is a valid token".
    const path = isAdmin ? 'admin/token' : `groups/${instance.settings.group?.id ?? 0}/tokens/revoke`;
    const send = () => instance.send('POST', path, credential, { token: PROBE_TOKEN });
    let verdict: string;
    try {
      verdict = classify(await send()).verdict;
    } catch {
      return undefined;
    }
    if (verdict === 'credential_rejected') return false;
    return verdict === 'transient' || verdict === 'rate_limited' ? undefined : true;
  }

  /** Instances whose token prefix the token carries come first; the rest keep their configured order. */
  #order(token: string): GitLabInstance[] {
    const own = (i: GitLabInstance) => (i.settings.tokenPrefix !== undefined && token.startsWith(i.settings.tokenPrefix) ? 0 : 1);
    return [...this.instances].sort((a, b) => own(a) - own(b));
  }

  #strategiesFor(instance: GitLabInstance, kind: TokenKind): Strategy[] {
    const allowed = rulesOf(kind).strategies;
    return instance.settings.strategies
      .filter((s) => allowed.includes(s))
      .map((s) => STRATEGY[s])
      .filter((s) => s.credential === undefined || instance.credential(s.credential) !== undefined);
  }

  /** `[gone]` or `[not_here]` when the instance settled it, else every inconclusive step it took. */
  async #onInstance(instance: GitLabInstance, token: string, kind: TokenKind): Promise<Step[]> {
    const steps: Step[] = [];
    for (const strategy of this.#strategiesFor(instance, kind)) {
      const skipped = await this.#skip(instance, strategy, kind);
      if (skipped) {
        steps.push(skipped);
        continue;
      }
      const used = strategy.credential && instance.credential(strategy.credential);
      const step = await strategy.run(instance, token, kind);
      if (isGone(step) || step.status === 'not_here') return [step];
      if (step.status === 'unavailable') {
        const key = GitLabInstance.availabilityKey(instance.name, strategy.name, step.scope === 'kind' ? kind : undefined);
        instance.availability.markUnavailable(key, step);
        steps.push({ ...step, retryAfterMs: instance.availability.expiresInMs(key) });
        continue;
      } else if (step.status === 'credential_rejected' && strategy.credential) {
        // It may just have been rotated (GitLab revokes the predecessor at once), here or by another replica: retry
        // with the successor rather than hold every job behind the breaker.
        const c = strategy.credential;
        if (used !== instance.credential(c) || (await instance.refreshCredential(c)) || used !== instance.credential(c)) {
          steps.push({ status: 'transient', reason: 'credential_rotated', summary: `${c} credential of ${instance.name} was rotated; retrying with its successor` });
          break;
        }
        await this.breakers.open(instance.breakerName(c), step.reason);
      }
      steps.push(step.status === 'transient' && step.lost ? { ...step, lost: { ...step.lost, instance: instance.name } } : step);
      // A throttled or failing instance fails the same way for the next strategy: come back later instead.
      if (step.status === 'rate_limited' || step.status === 'transient') break;
    }
    return steps.length > 0 ? steps : [{ status: 'permanent', reason: 'no_strategy_available', summary: `no strategy configured for ${kind} on ${instance.name}` }];
  }

  async #skip(instance: GitLabInstance, strategy: Strategy, kind: TokenKind): Promise<Step | undefined> {
    const key = (k?: TokenKind) => GitLabInstance.availabilityKey(instance.name, strategy.name, k);
    for (const k of [key(), key(kind)]) {
      const remembered = instance.availability.unavailable(k);
      // Same reason as when it was found, so the record reads the same whoever discovered it.
      if (remembered) return { status: 'unavailable', reason: remembered.reason, summary: `${remembered.summary} (remembered; skipped)`, scope: 'instance', retryAfterMs: instance.availability.expiresInMs(k) };
    }
    if (strategy.credential && (await this.breakers.isOpen(instance.breakerName(strategy.credential)))) {
      return { status: 'credential_rejected', reason: 'breaker_open', summary: `${strategy.credential} credential of ${instance.name} is refused; held until it works again` };
    }
    return undefined;
  }
}

/** A failure or a wait names the instance whose step decided it (with one instance, that one): on-call filters by it. */
function named(outcome: Outcome, steps: readonly Step[], where: ReadonlyMap<Step, string>): Outcome {
  if (outcome.status !== 'transient' && outcome.status !== 'permanent') return outcome;
  const instances = new Set(where.values());
  const decided = steps.find((s) => s.status === outcome.status && 'reason' in s && s.reason === outcome.reason);
  const instance = instances.size === 1 ? [...instances][0] : decided && where.get(decided);
  return instance === undefined ? outcome : { ...outcome, instance };
}

/**
 * What several inconclusive steps amount to, most actionable first: come back later (throttled, failing, our
 * credential refused), then "no instance knows it" (terminal), then "no strategy can act for now" (an endpoint
 * found unavailable may come back: wait until it is looked at again, within the retry horizon), then a permanent
 * failure naming every reason.
 */
export function conclude(steps: readonly Step[]): Outcome {
  const rateLimited = steps.filter((s) => s.status === 'rate_limited');
  if (rateLimited.length > 0) {
    const waits = rateLimited.map((s) => s.retryAfterMs).filter((ms): ms is number => ms !== undefined);
    return { status: 'rate_limited', retryAfterMs: waits.length > 0 ? Math.max(...waits) : undefined, summary: rateLimited[0]?.summary ?? '' };
  }
  const later = steps.find((s) => s.status === 'transient') ?? steps.find((s) => s.status === 'credential_rejected');
  if (later && (later.status === 'transient' || later.status === 'credential_rejected')) return later;
  if (steps.length > 0 && steps.every((s) => s.status === 'not_here')) return { status: 'not_found', via: 'all_instances' };
  const unavailable = steps.filter((s) => s.status === 'unavailable');
  if (unavailable.length > 0) {
    const waits = unavailable.map((s) => s.retryAfterMs).filter((ms): ms is number => ms !== undefined);
    const summary = `no strategy can act for now: ${unavailable.map((s) => s.summary).join('; ').slice(0, 400)} [${unavailable.map((s) => s.reason).join(',')}]`;
    return { status: 'transient', reason: 'no_strategy_available', summary, retryAfterMs: waits.length > 0 ? Math.max(1000, Math.min(...waits)) : undefined };
  }
  const reasons = steps.map((s) => ('reason' in s ? s.reason : s.status));
  const permanent = steps.find((s) => s.status === 'permanent');
  const reason = permanent && permanent.status === 'permanent' ? permanent.reason : 'no_strategy_available';
  return { status: 'permanent', reason, summary: `${steps.map((s) => ('summary' in s ? s.summary : '')).filter(Boolean).join('; ').slice(0, 400)} [${reasons.join(',')}]` };
}
