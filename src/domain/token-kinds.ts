// Which GitLab secret-detection `type` strings name which kind of token, and how each kind can be revoked: data, not branches.

/** Ways to make a GitLab token stop working; providers/gitlab/strategies implements each. */
export type StrategyName =
  /** Admin Token API: identify (POST /admin/token), then revoke or reset (DELETE /admin/token). Needs an admin credential. */
  | 'admin'
  /** DELETE /personal_access_tokens/self with the leaked token itself. Needs no credential of ours. */
  | 'self'
  /** POST /runners/reset_authentication_token with the leaked runner token; the new token is discarded unread. */
  | 'runner_reset'
  /** DELETE /runners with the leaked runner token: deletes the runner. Opt-in only. */
  | 'runner_delete'
  /** POST /groups/:id/tokens/revoke with a group owner's credential. */
  | 'group';

export const STRATEGIES: readonly StrategyName[] = ['admin', 'self', 'runner_reset', 'runner_delete', 'group'];

export type TokenKind =
  | 'personal_access_token'
  | 'runner_authentication_token'
  | 'deploy_token'
  | 'feed_token'
  | 'oauth_application_secret'
  | 'cluster_agent_token'
  | 'incoming_email_token'
  | 'pipeline_trigger_token'
  | 'feature_flags_client_token';

export interface KindRules {
  readonly kind: TokenKind;
  /** Rule ids (current analyzers) and rule descriptions (older analyzers) of GitLab's secret-detection ruleset. */
  readonly rules: readonly string[];
  /** What GitLab's admin DELETE does to this kind. */
  readonly adminAction: 'revoked' | 'reset';
  /** Every strategy that can act on this kind; the configured order decides which is tried first. */
  readonly strategies: readonly StrategyName[];
}

/**
 * GitLab builds `type` as `<identifier type>_<identifier value>`, spaces to `_`, lower-cased, punctuation kept.
 * Descriptions were read from GitLab's copy of the analyzer's gitleaks.toml; rules added after analyzers switched
 * to ids (routable formats, feed v2) reach us only in their id form. The legacy PAT type is listed although current
 * GitLab revokes those itself: older versions send them here.
 *
 * Not listed, because nothing can act on them: legacy runner registration tokens (`GR1348941`), CI job tokens
 * (`glcbt-`, identify-only), and SCIM OAuth tokens (`glsoat-`: not a kind the Admin Token API revokes, and no
 * credential-free path exists). They are answered as unsupported.
 */
export const KIND_RULES: readonly KindRules[] = [
  {
    kind: 'personal_access_token', // also impersonation, project and group access tokens: one shape, one API
    rules: ['gitlab_personal_access_token', 'gitlab_personal_access_token_routable', 'gitlab_personal_access_token_routable_versioned', 'GitLab Personal Access Token (routable)'],
    adminAction: 'revoked',
    strategies: ['admin', 'self', 'group'],
  },
  {
    kind: 'runner_authentication_token',
    rules: ['gitlab_runner_auth_token', 'gitlab_runner_auth_token_routable', 'GitLab Runner Authentication Token'],
    adminAction: 'reset',
    strategies: ['admin', 'runner_reset', 'runner_delete'],
  },
  { kind: 'deploy_token', rules: ['gitlab_deploy_token'], adminAction: 'revoked', strategies: ['admin', 'group'] },
  // `gitlab_feed_token` once meant `glft-` tokens and later unprefixed ones; both reach the same strategies.
  { kind: 'feed_token', rules: ['gitlab_feed_token_v2', 'gitlab_feed_token'], adminAction: 'reset', strategies: ['admin', 'group'] },
  { kind: 'oauth_application_secret', rules: ['gitlab_oauth_app_secret', 'GitLab OAuth Application Secrets'], adminAction: 'reset', strategies: ['admin'] },
  { kind: 'cluster_agent_token', rules: ['gitlab_kubernetes_agent_token', 'GitLab Agent for Kubernetes token'], adminAction: 'revoked', strategies: ['admin'] },
  { kind: 'incoming_email_token', rules: ['gitlab_incoming_email_token'], adminAction: 'reset', strategies: ['admin'] },
  { kind: 'pipeline_trigger_token', rules: ['gitlab_pipeline_trigger_token'], adminAction: 'revoked', strategies: ['admin'] },
  // No pipeline rule exists for it today (GitLab's docs list its id as "None"); the id form is inferred.
  { kind: 'feature_flags_client_token', rules: ['gitlab_feature_flags_client_token', 'gitlab_feature_flag_client_token'], adminAction: 'reset', strategies: ['admin'] },
];

export const typeString = (rule: string): string => `gitleaks_rule_id_${rule.replace(/ /g, '_')}`.toLowerCase();

const kindByType = new Map<string, TokenKind>(KIND_RULES.flatMap((k) => k.rules.map((r) => [typeString(r), k.kind] as const)));
const rulesByKind = new Map<TokenKind, KindRules>(KIND_RULES.map((k) => [k.kind, k]));

export const kindOfType = (type: string): TokenKind | undefined => kindByType.get(type);

export function rulesOf(kind: TokenKind): KindRules {
  const rules = rulesByKind.get(kind);
  if (!rules) throw new Error(`unknown token kind ${kind}`);
  return rules;
}

/** Every type string that names one of `kinds`, sorted and unique. */
export const typesOfKinds = (kinds: Iterable<TokenKind>): string[] => {
  const wanted = new Set(kinds);
  return [...new Set([...kindByType].filter(([, k]) => wanted.has(k)).map(([t]) => t))].sort();
};
