// The GitHub provider: batches tokens into /credentials/revoke, confirms each is dead, and deletes installation tokens.
import type { HttpClient } from '../http-client.js';
import type { Outcome } from '../../src/domain/outcome.js';
import type { Provider, ProviderServices, RevokeRequest } from '../contract.js';
import { BUDGET_KEY, HOUR_MS, RevokeBatch, TOKEN_BREAKER } from './batch.js';
import { call, createGitHubClient, isDotcom } from './client.js';
import { classify } from './classify.js';
import { revokeInstallationToken, type InstallationOptions } from './installation.js';
import { GITHUB_KINDS, KINDS, ruleFor, type PrefixRule } from './kinds.js';
import { awaitingConfirmation, notSettled, revokedConfirmed, stillActive, VIA_BATCH } from './outcomes.js';
import { type GitHubSettings, validateSettings } from './settings.js';
import { type Submission, Submissions } from './submissions.js';
import { TokenCalls } from './token-calls.js';

const DAY_MS = 86_400_000;

export function createGitHubProvider(settings: GitHubSettings, services: ProviderServices): Provider {
  validateSettings(settings);
  return new GitHubProvider(settings, services);
}

class GitHubProvider implements Provider {
  readonly name = 'github';
  readonly kinds = GITHUB_KINDS;
  readonly credentials: readonly string[];
  readonly #batch: RevokeBatch;
  readonly #calls: TokenCalls;
  readonly #submissions: Submissions;
  readonly #installation: InstallationOptions;
  readonly #bearer: string | undefined;
  readonly #client: HttpClient;

  constructor(
    private readonly s: GitHubSettings,
    private readonly services: ProviderServices,
  ) {
    this.#client = createGitHubClient({ apiUrl: s.apiUrl, timeoutMs: s.timeoutMs, userAgent: services.userAgent });
    if (s.token !== undefined && isDotcom(s.apiUrl)) services.logger.warn({ provider: 'github' }, 'github: GITHUB_TOKEN is ignored on api.github.com (the revoke call must be unauthenticated there)');
    this.#bearer = isDotcom(s.apiUrl) ? undefined : s.token;
    this.credentials = this.#bearer === undefined ? [] : [TOKEN_BREAKER];
    this.#submissions = new Submissions(services.state, s.resubmitAfterMs * s.maxSubmissions + DAY_MS);
    this.#calls = new TokenCalls(this.#client, services.limiter, { perSecond: s.perSecond, concurrency: s.concurrency });
    this.#batch = new RevokeBatch({ ...s, client: this.#client, bearer: this.#bearer, budget: services.budget, breakers: services.breakers, submissions: this.#submissions, logger: services.logger });
    this.#installation = { ...s, calls: this.#calls, submissions: this.#submissions };
  }

  async revoke(request: RevokeRequest): Promise<Outcome> {
    const rule = ruleFor(request.kind, request.token);
    // Never sent: one malformed credential makes GitHub refuse the whole list with a 422.
    if (!rule) return { status: 'permanent', reason: 'invalid_format', summary: `not a well-formed GitHub ${request.kind}: expected ${KINDS.find((k) => k.kind === request.kind)?.shape ?? 'a known GitHub kind'}` };
    const outcome = rule.handling === 'installation' ? await revokeInstallationToken(this.#installation, request) : await this.#batched(request, rule);
    this.services.logger.debug({ provider: 'github', fingerprint: request.fingerprint.slice(0, 12), status: outcome.status, ...('reason' in outcome ? { reason: outcome.reason } : {}) }, 'github: revoke step');
    return outcome;
  }

  /**
   * Asks the very endpoint with an empty list: GitHub checks the credential before the body, so 401/403 means still
   * refused and 422 (the empty list) means accepted, and nothing is revoked. GET /user would not do: a valid token
   * that may not call /credentials/revoke passes it. It takes one call of the budget, idle while the breaker is open.
   */
  async probe(breaker: string): Promise<boolean | undefined> {
    if (breaker !== TOKEN_BREAKER) return undefined;
    if (this.#bearer === undefined) return true; // no credential any more: nothing is held behind it
    if (!(await this.services.budget.take(BUDGET_KEY, this.s.requestsPerHour, HOUR_MS)).ok) return undefined;
    const v = classify(await call(this.#client, 'POST', 'credentials/revoke', this.#bearer, { credentials: [] }).catch((err: Error) => err), [this.#bearer]);
    if (v.verdict === 'unauthorized' || v.verdict === 'forbidden') return false;
    return v.verdict === 'validation_failed' || v.verdict === 'ok' ? true : undefined;
  }

  close(): Promise<void> {
    return this.#batch.close().catch(() => undefined);
  }

  async #batched(request: RevokeRequest, rule: PrefixRule): Promise<Outcome> {
    const { fingerprint, token } = request;
    if (this.#batch.has(fingerprint)) return this.#join(fingerprint, token, 0);
    const sub = await this.#submissions.get(fingerprint);
    if (!sub) return this.#join(fingerprint, token, 0);
    // A refresh token cannot call the API: a 401 would prove nothing, so acceptance is all we can know.
    if (rule.handling === 'batch_unconfirmable') return { status: 'submitted', via: VIA_BATCH, confirmed: false };
    const age = Date.now() - sub.submittedAt;
    if (age < this.s.confirmAfterMs) return awaitingConfirmation(this.s.confirmAfterMs - age, `submitted ${Math.round(age / 1000)} s ago; confirming once GitHub has had time to revoke it`);
    const check = await this.#calls.user(token);
    if (check.verdict === 'unauthorized') return revokedConfirmed(VIA_BATCH);
    // 200, or 403 (authenticated, merely not allowed): the token still works.
    if (check.verdict === 'ok' || check.verdict === 'forbidden') return this.#stillAlive(request, sub, age);
    return notSettled(check);
  }

  async #stillAlive({ fingerprint, token }: RevokeRequest, sub: Submission, age: number): Promise<Outcome> {
    if (age < this.s.resubmitAfterMs) {
      const wait = Math.min(this.s.confirmAfterMs || this.s.resubmitAfterMs, this.s.resubmitAfterMs - age);
      return awaitingConfirmation(wait, `submitted ${Math.round(age / 1000)} s ago (${sub.submissions}x) and still active; GitHub revokes asynchronously`);
    }
    if (sub.submissions >= this.s.maxSubmissions) {
      this.services.logger.warn({ provider: 'github', fingerprint: fingerprint.slice(0, 12), submissions: sub.submissions }, 'github: token still active after every submission; failing it for an operator');
      return stillActive(sub.submissions);
    }
    const joined = await this.#join(fingerprint, token, sub.submissions);
    return joined.status === 'pending' && joined.reason === 'awaiting_batch' ? { ...joined, reason: 'resubmitting' } : joined;
  }

  async #join(fingerprint: string, token: string, basis: number): Promise<Outcome> {
    if (this.#bearer !== undefined && (await this.services.breakers.isOpen(TOKEN_BREAKER))) {
      return { status: 'credential_rejected', reason: 'breaker_open', summary: 'GitHub Enterprise refuses GITHUB_TOKEN; held until it works again' };
    }
    return this.#batch.join(fingerprint, token, basis);
  }
}
