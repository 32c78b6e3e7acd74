// What one strategy on one instance can conclude, and the mapping of classified answers onto it.
import type { LostAnswer, Outcome } from '../../../src/domain/outcome.js';
import type { StrategyName, TokenKind } from '../kinds.js';
import type { Classified } from '../classify.js';
import { classify } from '../classify.js';
import type { Answer } from '../client.js';
import type { Credential, GitLabInstance } from '../instance.js';
import { ANSWER_LOST } from '../../http-client.js';

export type Step =
  | Outcome
  /** This instance does not know the token: try the next instance. */
  | { readonly status: 'not_here'; readonly summary: string }
  /** This strategy cannot serve here (flag off, endpoint absent, kind unsupported): try the next strategy. */
  | { readonly status: 'unavailable'; readonly reason: string; readonly summary: string; readonly scope: 'instance' | 'kind'; readonly retryAfterMs?: number | undefined };

export interface Strategy {
  readonly name: StrategyName;
  /** Our credential the strategy needs, if any: without it, or while its breaker is open, the strategy is skipped. */
  readonly credential?: Credential;
  run(instance: GitLabInstance, token: string, kind: TokenKind): Promise<Step>;
}

/** Sends and classifies; network failures classify too. `secrets` are scrubbed from the summary. */
export async function attempt(send: () => Promise<Answer>, secrets: readonly (string | undefined)[]): Promise<Classified> {
  const scrub = secrets.filter((s): s is string => typeof s === 'string');
  try {
    return classify(await send(), scrub);
  } catch (err) {
    return classify(err as Error);
  }
}


/** `failure` for the call that revokes: a lost answer says what GitLab may have done (see LostAnswer). */
export function revokingFailure(c: Classified, wouldBe: Omit<LostAnswer, 'instance'>): Step {
  const step = failure(c);
  return step.status === 'transient' && ANSWER_LOST.has(c.reason) ? { ...step, lost: wouldBe } : step;
}

/** The failures every strategy maps the same way. Strategies handle ok, not_found and their own quirks first. */
export function failure(c: Classified): Step {
  switch (c.verdict) {
    case 'rate_limited':
      return { status: 'rate_limited', retryAfterMs: c.retryAfterMs, summary: c.summary };
    case 'transient':
      return { status: 'transient', reason: c.reason, summary: c.summary };
    case 'credential_rejected':
      return { status: 'credential_rejected', reason: c.reason, summary: c.summary };
    case 'unavailable':
      return { status: 'unavailable', reason: c.reason, summary: c.summary, scope: c.reason === 'token_type_not_supported' ? 'kind' : 'instance' };
    case 'not_found':
      return { status: 'not_here', summary: c.summary };
    default:
      return { status: 'permanent', reason: c.reason, summary: c.summary };
  }
}
