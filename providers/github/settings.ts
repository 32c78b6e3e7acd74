// The GitHub provider's settings, checked once when it is built: a bad value fails the start naming its variable.

export interface GitHubSettings {
  /** GITHUB_API_URL: `https://api.github.com`, or `https://HOST/api/v3` for GitHub Enterprise Server. */
  readonly apiUrl: string;
  /** GITHUB_TOKEN: GHES only. On api.github.com the revoke call must be unauthenticated (an authenticated one gets 403). */
  readonly token: string | undefined;
  /** GITHUB_REVOKE_REQUESTS_PER_HOUR: shared by every replica (GitHub allows 60). */
  readonly requestsPerHour: number;
  /** A batch is sent once no token joined for this long, once it holds 1,000, or at the latest 10× this after its first. */
  readonly batchWaitMs: number;
  /** After a 202, how long to wait before checking whether the token is dead (GitHub revokes asynchronously). */
  readonly confirmAfterMs: number;
  /** A token still alive this long after its submission is submitted again. */
  readonly resubmitAfterMs: number;
  /** After this many submissions, a token still alive is a permanent failure. */
  readonly maxSubmissions: number;
  /** Outbound rate of the per-token calls (GET /user, DELETE /installation/token), shared by every replica. */
  readonly perSecond: number;
  readonly concurrency: number;
  /** Per call. */
  readonly timeoutMs: number;
}

export const GITHUB_DEFAULTS = {
  apiUrl: 'https://api.github.com',
  requestsPerHour: 60,
  batchWaitMs: 1000,
  confirmAfterMs: 30_000,
  resubmitAfterMs: 600_000,
  maxSubmissions: 3,
  perSecond: 10,
  concurrency: 8,
  timeoutMs: 10_000,
} as const;

type Rule = readonly [keyof GitHubSettings, string, (v: number) => boolean, string];

const RULES: readonly Rule[] = [
  ['requestsPerHour', 'GITHUB_REVOKE_REQUESTS_PER_HOUR', (v) => Number.isInteger(v) && v >= 1, 'a positive integer'],
  ['batchWaitMs', 'batchWaitMs', (v) => Number.isFinite(v) && v >= 0, 'a non-negative number of ms'],
  ['confirmAfterMs', 'confirmAfterMs', (v) => Number.isFinite(v) && v >= 0, 'a non-negative number of ms'],
  ['resubmitAfterMs', 'resubmitAfterMs', (v) => Number.isFinite(v) && v > 0, 'a positive number of ms'],
  ['maxSubmissions', 'maxSubmissions', (v) => Number.isInteger(v) && v >= 1, 'a positive integer'],
  ['perSecond', 'perSecond', (v) => Number.isFinite(v) && v > 0, 'a positive number'],
  ['concurrency', 'concurrency', (v) => Number.isInteger(v) && v >= 1, 'a positive integer'],
  ['timeoutMs', 'timeoutMs', (v) => Number.isFinite(v) && v > 0, 'a positive number of ms'],
];

export function validateSettings(s: GitHubSettings): void {
  let url: URL | undefined;
  try {
    url = new URL(s.apiUrl);
  } catch {
    url = undefined;
  }
  if (!url || (url.protocol !== 'https:' && url.protocol !== 'http:')) throw new Error(`GitHub provider: GITHUB_API_URL must be an http(s) URL, got ${JSON.stringify(s.apiUrl)}`);
  for (const [key, name, ok, what] of RULES) {
    const v = s[key];
    if (typeof v !== 'number' || !ok(v)) throw new Error(`GitHub provider: ${name} must be ${what}, got ${String(v)}`);
  }
  if (s.resubmitAfterMs < s.confirmAfterMs) throw new Error(`GitHub provider: resubmitAfterMs (${s.resubmitAfterMs}) must not be shorter than confirmAfterMs (${s.confirmAfterMs})`);
  if (s.token !== undefined && s.token.trim().length === 0) throw new Error('GitHub provider: GITHUB_TOKEN is set but empty');
}
