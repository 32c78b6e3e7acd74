// The Slack provider's settings, their defaults, and the checks that fail fast at start-up naming the bad setting.

export interface SlackSettings {
  /** SLACK_API_URL: the Web API base, `https://slack.com/api` (a simulator's URL in tests). */
  readonly apiUrl: string;
  /** Outbound rate of auth.revoke calls, shared by every replica through the limiter. */
  readonly perSecond: number;
  /** auth.revoke calls in flight at once, across replicas. */
  readonly concurrency: number;
  /** Whole-request timeout of one call. */
  readonly timeoutMs: number;
}

/**
 * Slack limits auth.revoke per workspace and app (tier 3, about 50 a minute), and leaked tokens come from many
 * workspaces: 5 a second overall is gentle on any one of them; a 429 is honoured anyway.
 */
export const SLACK_DEFAULTS: SlackSettings = Object.freeze({ apiUrl: 'https://slack.com/api', perSecond: 5, concurrency: 4, timeoutMs: 10_000 });

export function validateSlackSettings(s: SlackSettings): SlackSettings {
  let url: URL;
  try {
    url = new URL(s.apiUrl);
  } catch {
    throw new Error(`Slack provider: apiUrl must be an absolute URL, got ${JSON.stringify(s.apiUrl)}`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new Error(`Slack provider: apiUrl must be http(s), got ${url.protocol}`);
  if (!(Number.isFinite(s.perSecond) && s.perSecond > 0)) throw new Error(`Slack provider: perSecond must be a positive number, got ${s.perSecond}`);
  if (!(Number.isInteger(s.concurrency) && s.concurrency >= 1)) throw new Error(`Slack provider: concurrency must be a positive integer, got ${s.concurrency}`);
  if (!(Number.isFinite(s.timeoutMs) && s.timeoutMs > 0)) throw new Error(`Slack provider: timeoutMs must be a positive number, got ${s.timeoutMs}`);
  return Object.freeze({ ...s, apiUrl: s.apiUrl.replace(/\/+$/, '') });
}
