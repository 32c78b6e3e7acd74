// Which GitLab secret-detection `type` strings name which kind of GitLab token, and how each kind can be revoked: data, not branches.
import type { TokenKindSpec } from '../contract.js';

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
  | 'pipeline_trigger_token';

export interface KindRules {
  readonly kind: TokenKind;
  /** Rule ids of GitLab's secret-detection ruleset: what current analyzers (and the newer secret scanner) send. */
  readonly ids: readonly string[];
  /** Rule descriptions: what older analyzers sent as the identifier value. */
  readonly descriptions?: readonly string[];
  /** What its tokens look like. */
  readonly shape: string;
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
 * credential-free path exists). They are answered as unsupported. Nor feature-flags client tokens (`glffct-`): no
 * secret-detection rule produces them (GitLab's detected_secrets.md lists their rule id as "None"; the only pattern
 * is the browser-side one in app/assets/javascripts/lib/utils/secret_detection_patterns.js), so no type reaches us.
 *
 * Sources (gitlab-org/gitlab, synced 2026-02): ee/app/workers/scan_security_report_secrets_worker.rb builds the type
 * from the finding's first identifier, `(external_type + '_' + external_id.tr(' ', '_')).downcase`;
 * ee/lib/security/secret_detection/rule_identifiers.rb names both identifier types; rule ids from
 * doc/user/application_security/secret_detection/detected_secrets.md and
 * ee/app/services/security/secret_detection/token_lookup_service.rb.
 */
export const KIND_RULES: readonly KindRules[] = [
  {
    kind: 'personal_access_token', // also impersonation, project and group access tokens: one shape, one API
    ids: ['gitlab_personal_access_token', 'gitlab_personal_access_token_routable', 'gitlab_personal_access_token_routable_versioned'],
    descriptions: ['GitLab Personal Access Token (routable)'],
    shape: '`glpat-` + 20 characters, or routable `glpat-` + base64 payload',
    adminAction: 'revoked',
    strategies: ['admin', 'self', 'group'],
  },
  {
    kind: 'runner_authentication_token',
    ids: ['gitlab_runner_auth_token', 'gitlab_runner_auth_token_routable'],
    descriptions: ['GitLab Runner Authentication Token'],
    shape: '`glrt-` + 20 characters, or routable `glrt-t<n>_` + payload',
    adminAction: 'reset',
    strategies: ['admin', 'runner_reset', 'runner_delete'],
  },
  { kind: 'deploy_token', ids: ['gitlab_deploy_token'], shape: '`gldt-` + 20 characters', adminAction: 'revoked', strategies: ['admin', 'group'] },
  // `gitlab_feed_token` once meant `glft-` tokens and later unprefixed ones; both reach the same strategies.
  { kind: 'feed_token', ids: ['gitlab_feed_token_v2', 'gitlab_feed_token'], shape: '`glft-` + 20 characters', adminAction: 'reset', strategies: ['admin', 'group'] },
  { kind: 'oauth_application_secret', ids: ['gitlab_oauth_app_secret'], descriptions: ['GitLab OAuth Application Secrets'], shape: '`gloas-` + 64 hex characters', adminAction: 'reset', strategies: ['admin'] },
  { kind: 'cluster_agent_token', ids: ['gitlab_kubernetes_agent_token'], descriptions: ['GitLab Agent for Kubernetes token'], shape: '`glagent-` + 50 characters', adminAction: 'revoked', strategies: ['admin'] },
  { kind: 'incoming_email_token', ids: ['gitlab_incoming_email_token'], shape: '`glimt-` + 25 characters', adminAction: 'reset', strategies: ['admin'] },
  { kind: 'pipeline_trigger_token', ids: ['gitlab_pipeline_trigger_token'], shape: '`glptt-` + 40 characters', adminAction: 'revoked', strategies: ['admin'] },
];

/**
 * The identifier types GitLab builds `type` from: the gitleaks-based analyzer's, and the newer GitLab secret scanner's
 * (same rule ids, its own identifier type).
 */
export const IDENTIFIER_TYPES = ['gitleaks_rule_id', 'gitlab_secret_scanner_rule_id'] as const;

/** GitLab's normalisation: `<identifier type>_<value>`, spaces to `_`, lower-cased, punctuation kept. */
export const typeString = (rule: string, identifier: (typeof IDENTIFIER_TYPES)[number] = 'gitleaks_rule_id'): string => `${identifier}_${rule.replace(/ /g, '_')}`.toLowerCase();

/** Every type string GitLab can send for one kind. */
export const typesOf = (k: KindRules): string[] => [...new Set([...IDENTIFIER_TYPES.flatMap((id) => k.ids.map((r) => typeString(r, id))), ...(k.descriptions ?? []).map((d) => typeString(d))])];

const rulesByKind = new Map<string, KindRules>(KIND_RULES.map((k) => [k.kind, k]));

export function rulesOf(kind: string): KindRules {
  const rules = rulesByKind.get(kind);
  if (!rules) throw new Error(`unknown GitLab token kind ${kind}`);
  return rules;
}

/** The kinds as the provider contract lists them. */
export const kindSpec = (k: KindRules): TokenKindSpec => ({ kind: k.kind, types: typesOf(k), shape: k.shape });
