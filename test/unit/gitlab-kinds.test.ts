// providers/gitlab/kinds.ts: GitLab's type strings, built from its secret-detection rule ids.
import { KIND_RULES, typeString, typesOf } from '../../providers/gitlab/kinds.js';

describe('GitLab token type strings', () => {
  const kindOfType = (type: string) => KIND_RULES.find((k) => typesOf(k).includes(type))?.kind;

  it('builds type strings the way GitLab does', () => {
    expect(typeString('GitLab Personal Access Token (routable)')).toBe('gitleaks_rule_id_gitlab_personal_access_token_(routable)');
    expect(kindOfType('gitleaks_rule_id_gitlab_runner_authentication_token')).toBe('runner_authentication_token');
    expect(kindOfType('gitleaks_rule_id_gitlab_runner_registration_token')).toBeUndefined();
  });

  it('accepts the newer GitLab secret scanner identifier for every rule id, not for old descriptions', () => {
    for (const k of KIND_RULES) for (const id of k.ids) expect(kindOfType(`gitlab_secret_scanner_rule_id_${id}`)).toBe(k.kind);
    expect(kindOfType('gitlab_secret_scanner_rule_id_gitlab_runner_authentication_token')).toBeUndefined();
  });

  it('offers no type that no GitLab rule produces (feature-flags client tokens have none)', () => {
    expect(KIND_RULES.flatMap(typesOf).filter((t) => t.includes('feature_flag'))).toEqual([]);
  });
});
