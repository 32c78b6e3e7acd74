// GitHub's kinds of token, every `type` string GitLab's secret detection sends for them, and their shapes: data, not branches.
import type { TokenKindSpec } from '../contract.js';

/** What is done with a token, decided by its prefix (one kind, `app_token`, covers two prefixes that need different acts). */
export type Handling =
  /** Sent in a batch to POST /credentials/revoke, then confirmed with GET /user as the token itself. */
  | 'batch_confirmable'
  /** Sent in a batch, but nothing can confirm it: a refresh token cannot call the API, so its 401 proves nothing. */
  | 'batch_unconfirmable'
  /** Not accepted by /credentials/revoke: revoked by the token itself with DELETE /installation/token. */
  | 'installation';

export interface PrefixRule {
  readonly prefix: string;
  /** The whole token, anchored. */
  readonly pattern: RegExp;
  readonly handling: Handling;
}

const classic = (prefix: string, handling: Handling): PrefixRule => ({ prefix, pattern: new RegExp(`^${prefix}[A-Za-z0-9]{36}$`), handling });

/** Formats from GitHub's docs ("About authentication to GitHub", token formats); see /work/shared/docs/vendors.md. */
export const PREFIXES: Readonly<Record<string, PrefixRule>> = {
  ghp_: classic('ghp_', 'batch_confirmable'),
  github_pat_: { prefix: 'github_pat_', pattern: /^github_pat_[A-Za-z0-9_]{82}$/, handling: 'batch_confirmable' },
  gho_: classic('gho_', 'batch_confirmable'),
  ghu_: classic('ghu_', 'batch_confirmable'),
  ghs_: classic('ghs_', 'installation'),
  ghr_: classic('ghr_', 'batch_unconfirmable'),
  // The older installation-token format GitLab's GithubAppInstallationToken rule finds: `v1.` + 40 hex.
  'v1.': { prefix: 'v1.', pattern: /^v1\.[0-9a-f]{40}$/, handling: 'installation' },
};

interface GitHubKind extends TokenKindSpec {
  /** The prefixes a token of this kind may carry; any other is `invalid_format`. */
  readonly prefixes: readonly string[];
}

/**
 * GitLab builds `type` as `<identifier type>_` + the rule id, spaces as `_`, lower-cased
 * (ee/app/workers/scan_security_report_secrets_worker.rb), with either identifier type: `gitleaks_rule_id` or the newer
 * scanner's `gitlab_secret_scanner_rule_id` (ee/lib/security/secret_detection/rule_identifiers.rb). Rule ids from
 * GitLab's doc/user/application_security/secret_detection/detected_secrets.md (`Github Personal Access Token`,
 * `GithubFineGrainedPersonalAccessToken`, `Github OAuth Access Token`, `Github App Token`, `GithubAppInstallationToken`,
 * `Github Refresh Token`; older docs spell them `GitHub ...`, which lower-cases the same).
 */
const typesOf = (...ruleIds: string[]): string[] => ['gitleaks_rule_id', 'gitlab_secret_scanner_rule_id'].flatMap((id) => ruleIds.map((r) => `${id}_${r.replace(/ /g, '_')}`.toLowerCase()));

export const KINDS: readonly GitHubKind[] = [
  {
    kind: 'personal_access_token',
    types: typesOf('Github Personal Access Token'),
    shape: '`ghp_` + 36 alphanumerics',
    prefixes: ['ghp_'],
  },
  {
    kind: 'fine_grained_personal_access_token',
    types: typesOf('GithubFineGrainedPersonalAccessToken'),
    shape: '`github_pat_` + 82 of `[A-Za-z0-9_]`',
    prefixes: ['github_pat_'],
  },
  {
    kind: 'oauth_access_token',
    types: typesOf('Github OAuth Access Token'),
    shape: '`gho_` + 36 alphanumerics',
    prefixes: ['gho_'],
  },
  {
    kind: 'app_token',
    types: typesOf('Github App Token'),
    shape: '`ghu_` (user-to-server) or `ghs_` (installation) + 36 alphanumerics',
    prefixes: ['ghu_', 'ghs_'],
  },
  {
    kind: 'app_installation_token',
    types: typesOf('GithubAppInstallationToken'),
    shape: '`ghs_` + 36 alphanumerics, or the older `v1.` + 40 hex',
    prefixes: ['ghs_', 'v1.'],
  },
  {
    kind: 'refresh_token',
    types: typesOf('Github Refresh Token'),
    shape: '`ghr_` + 36 alphanumerics',
    prefixes: ['ghr_'],
  },
];

/** What the provider offers: the kinds as the contract names them, without the prefix table. */
export const GITHUB_KINDS: readonly TokenKindSpec[] = KINDS.map(({ kind, types, shape }) => ({ kind, types, shape }));

/** How to handle `token` as a `kind`, or undefined when it is not a well-formed token of that kind (never send it). */
export function ruleFor(kind: string, token: string): PrefixRule | undefined {
  const spec = KINDS.find((k) => k.kind === kind);
  const rule = spec?.prefixes.map((p) => PREFIXES[p]).find((r) => r !== undefined && token.startsWith(r.prefix));
  return rule && rule.pattern.test(token) ? rule : undefined;
}

/** Anything shaped like a GitHub token, for scrubbing summaries should GitHub ever echo one. */
export const ANY_TOKEN = /gh[pousr]_[A-Za-z0-9]{36}|github_pat_[A-Za-z0-9_]{82}|v1\.[0-9a-f]{40}/g;
