// The Slack provider: a leaked token revokes itself with auth.revoke, one call per token (Slack has no batch endpoint).
import type { HttpClient } from '../http-client.js';
import { shortFingerprint } from '../../src/domain/fingerprint.js';
import type { Outcome } from '../../src/domain/outcome.js';
import type { Provider, ProviderServices, RevokeRequest, TokenKindSpec } from '../contract.js';
import { classify } from './classify.js';
import { authRevoke, createSlackClient, type SlackAnswer } from './client.js';
import { SLACK_KINDS, slackShape } from './kinds.js';
import { type SlackSettings, validateSlackSettings } from './settings.js';

/** The limiter key: one rate and one concurrency cap for every replica's calls to Slack. */
export const LIMITER_KEY = 'slack';

export class SlackProvider implements Provider {
  readonly name = 'slack';
  readonly kinds: readonly TokenKindSpec[] = SLACK_KINDS;
  readonly settings: SlackSettings;
  readonly #client: HttpClient;

  constructor(
    settings: SlackSettings,
    private readonly services: ProviderServices,
  ) {
    this.settings = validateSlackSettings(settings);
    const { apiUrl, timeoutMs, concurrency } = this.settings;
    this.#client = createSlackClient({ apiUrl, timeoutMs, userAgent: services.userAgent, maxSockets: concurrency });
  }

  async revoke({ token, fingerprint }: RevokeRequest): Promise<Outcome> {
    const shape = slackShape(token);
    const outcome: Outcome = shape ? classify(await this.#send(token), shape) : { status: 'permanent', reason: 'invalid_format', summary: 'not a revocable Slack token shape; not sent' };
    this.#log(fingerprint, outcome, shape?.prefix);
    return outcome;
  }

  /** The answer, or the failure (network, or the limiter's Redis) as an Error: never throws. */
  async #send(token: string): Promise<SlackAnswer | Error> {
    const { perSecond, concurrency } = this.settings;
    try {
      return await this.services.limiter.run(LIMITER_KEY, { perSecond, concurrency }, () => authRevoke(this.#client, token));
    } catch (err) {
      return err instanceof Error ? err : new Error(String(err));
    }
  }

  /** The fingerprint's first 12 hex and the outcome's codes; never the token, never more of the body than `error`. */
  #log(fingerprint: string, o: Outcome, prefix: string | undefined): void {
    const fields = { provider: this.name, fp: shortFingerprint(fingerprint), prefix, status: o.status, ...('reason' in o ? { reason: o.reason } : {}), ...('summary' in o ? { summary: o.summary } : {}) };
    if (o.status === 'permanent') this.services.logger.warn(fields, 'slack: revocation failed for good');
    else this.services.logger.info(fields, `slack: auth.revoke ${o.status}`);
  }
}

export function createSlackProvider(settings: SlackSettings, services: ProviderServices): Provider {
  return new SlackProvider(settings, services);
}
