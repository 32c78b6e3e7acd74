// The GitLab provider: tries a token on each instance, and on each the strategies its kind allows, in the configured order.
import { isGone, type Outcome } from '../../src/domain/outcome.js';
import { KIND_RULES, rulesOf, type StrategyName, type TokenKind } from '../../src/domain/token-kinds.js';
import type { CredentialBreakers, Provider, RevokeRequest } from '../contract.js';
import { classify } from './classify.js';
import { GitLabInstance } from './instance.js';
import { admin } from './strategies/admin.js';
import { group } from './strategies/group.js';
import { runnerDelete, runnerReset } from './strategies/runner.js';
import { self } from './strategies/self.js';
import type { Step, Strategy } from './strategies/step.js';

/** The explicit list of strategies; instances choose among them by name and order. */
const STRATEGY: Readonly<Record<StrategyName, Strategy>> = { admin, self, runner_reset: runnerReset, runner_delete: runnerDelete, group };

/** A syntactically valid token no instance issued: asking about it tells whether our credential is accepted. */
const PROBE_TOKEN = 'glpat-trapicredentialprobe0';

export class GitLabProvider implements Provider {
  readonly name = 'gitlab';
  readonly kinds: readonly TokenKind[];

  constructor(
    readonly instances: readonly GitLabInstance[],
    private readonly breakers: CredentialBreakers,
  ) {
    // A kind is offered only when some instance has some strategy for it that it can run.
    this.kinds = KIND_RULES.filter((k) => instances.some((i) => this.#strategiesFor(i, k.kind).length > 0)).map((k) => k.kind);
  }

  async revoke({ token, kind }: RevokeRequest): Promise<Outcome> {
    const steps: Step[] = [];
    for (const instance of this.#order(token)) {
      const found = await this.#onInstance(instance, token, kind);
      const gone = found.find(isGone);
      if (gone) return { ...gone, instance: instance.name };
      steps.push(...found);
    }
    return conclude(steps);
  }

  /** Whether a credential works again; used by the breaker monitor. `undefined`: cannot tell right now. */
  async probe(breakerName: string): Promise<boolean | undefined> {
    // A rotation breaker holds no job and closes when a rotation succeeds: the rotator owns it.
    if (this.instances.some((i) => breakerName === i.rotationBreakerName('admin') || breakerName === i.rotationBreakerName('group'))) return undefined;
    const instance = this.instances.find((i) => breakerName === i.breakerName('admin') || breakerName === i.breakerName('group'));
    if (!instance) return true; // an instance no longer configured: nothing to hold jobs for
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
        instance.availability.markUnavailable(GitLabInstance.availabilityKey(instance.name, strategy.name, step.scope === 'kind' ? kind : undefined), step);
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
    return steps.length > 0 ? steps : [{ status: 'unavailable', reason: 'no_strategy', summary: `no strategy for this kind on ${instance.name}`, scope: 'kind' }];
  }

  async #skip(instance: GitLabInstance, strategy: Strategy, kind: TokenKind): Promise<Step | undefined> {
    const key = (k?: TokenKind) => GitLabInstance.availabilityKey(instance.name, strategy.name, k);
    const remembered = instance.availability.unavailable(key()) ?? instance.availability.unavailable(key(kind));
    if (remembered) {
      // Same reason as when it was found, so the failed set reads the same whoever discovered it.
      return { status: 'unavailable', reason: remembered.reason, summary: `${remembered.summary} (remembered; skipped)`, scope: 'instance' };
    }
    if (strategy.credential && (await this.breakers.isOpen(instance.breakerName(strategy.credential)))) {
      return { status: 'credential_rejected', reason: 'breaker_open', summary: `${strategy.credential} credential of ${instance.name} is refused; held until it works again` };
    }
    return undefined;
  }
}

/**
 * What several inconclusive steps amount to, most actionable first: come back later (throttled, failing, our
 * credential refused), then "no instance knows it" (terminal), then a permanent failure naming every reason.
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
  const reasons = steps.map((s) => ('reason' in s ? s.reason : s.status));
  const permanent = steps.find((s) => s.status === 'permanent');
  const reason = permanent && permanent.status === 'permanent' ? permanent.reason : 'no_strategy_available';
  return { status: 'permanent', reason, summary: `${steps.map((s) => ('summary' in s ? s.summary : '')).filter(Boolean).join('; ').slice(0, 400)} [${reasons.join(',')}]` };
}
