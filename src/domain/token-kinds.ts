// Which GitLab secret-detection `type` strings name which kind of token: data, not branches.

export type TokenKind = 'personal_access_token' | 'runner_authentication_token';

interface KindRules {
  readonly kind: TokenKind;
  /** Rule ids (current analyzers) and rule descriptions (older analyzers) of GitLab's secret-detection ruleset. */
  readonly rules: readonly string[];
}

/**
 * GitLab builds `type` as `<identifier type>_<identifier value>`, spaces to `_`, lower-cased, punctuation kept.
 * Descriptions were read from GitLab's copy of the analyzer's gitleaks.toml; the routable-versioned and routable-runner
 * rules were added after analyzers switched to ids, so only their id form can reach us.
 * The legacy PAT type is listed although current GitLab revokes those itself: older versions send them here.
 */
export const KIND_RULES: readonly KindRules[] = [
  {
    kind: 'personal_access_token',
    rules: [
      'gitlab_personal_access_token',
      'gitlab_personal_access_token_routable',
      'gitlab_personal_access_token_routable_versioned',
      'GitLab Personal Access Token', // description form (read); same string as the id form
      'GitLab Personal Access Token (routable)', // description form (read)
    ],
  },
  {
    kind: 'runner_authentication_token',
    rules: [
      'gitlab_runner_auth_token',
      'gitlab_runner_auth_token_routable',
      'GitLab Runner Authentication Token', // description form (read): gitleaks_rule_id_gitlab_runner_authentication_token
    ],
  },
];

export const typeString = (rule: string): string => `gitleaks_rule_id_${rule.replace(/ /g, '_')}`.toLowerCase();

const kindByType = new Map<string, TokenKind>(KIND_RULES.flatMap((k) => k.rules.map((r) => [typeString(r), k.kind] as const)));

export const kindOfType = (type: string): TokenKind | undefined => kindByType.get(type);

/** Every type string that names one of `kinds`, sorted and unique. */
export const typesOfKinds = (kinds: Iterable<TokenKind>): string[] => {
  const wanted = new Set(kinds);
  return [...new Set([...kindByType].filter(([, k]) => wanted.has(k)).map(([t]) => t))].sort();
};
