// What Slack tokens this provider revokes: GitLab's type strings and the token shapes, as data (one place to extend).
import type { TokenKindSpec } from '../contract.js';

/**
 * One prefix of Slack token. `refresh`: a refresh token, which may never authenticate a Web API call, so Slack
 * refusing it is no proof that it is dead (see classify.ts).
 * Prefixes from Slack's token-types and token-rotation docs (https://api.slack.com/authentication/token-types,
 * https://api.slack.com/authentication/rotation) and gitleaks' Slack rules (cmd/generate/config/rules/slack.go).
 */
export interface SlackPrefix {
  readonly prefix: string;
  readonly name: string;
  readonly refresh: boolean;
}

export const SLACK_PREFIXES: readonly SlackPrefix[] = [
  { prefix: 'xoxe.xoxp-', name: 'rotating user (or app configuration) access token', refresh: false },
  { prefix: 'xoxe.xoxb-', name: 'rotating bot access token', refresh: false },
  { prefix: 'xoxb-', name: 'bot token', refresh: false },
  { prefix: 'xoxp-', name: 'user token', refresh: false },
  { prefix: 'xoxa-', name: 'workspace app token (legacy)', refresh: false },
  { prefix: 'xoxs-', name: 'legacy token', refresh: false },
  { prefix: 'xoxr-', name: 'workspace app refresh token (legacy)', refresh: true },
  { prefix: 'xoxe-', name: 'refresh token (token rotation, app configuration)', refresh: true },
];

/**
 * Deliberately not accepted, so never sent: `xoxc-` browser-session tokens authenticate only with their `d` cookie
 * (alone, Slack refuses them whether live or not: a refusal would read as "already gone"); `xapp-` app-level tokens
 * are not documented as revocable by auth.revoke. Both are answered `invalid_format`.
 */
export const SLACK_NOT_REVOCABLE: readonly string[] = ['xoxc-', 'xapp-'];

/**
 * After the prefix: letters, digits and dashes only (every documented form; also keeps the Authorization header
 * clean). 8..500 characters: gitleaks' shortest true positives carry 8+, rotating tokens about 170.
 */
const TAIL = /^[A-Za-z0-9-]{8,500}$/;

/** The prefix of a well-formed Slack token, or undefined: such a token is never sent. */
export function slackShape(token: string): SlackPrefix | undefined {
  const p = SLACK_PREFIXES.find((x) => token.startsWith(x.prefix));
  return p && TAIL.test(token.slice(p.prefix.length)) ? p : undefined;
}

/**
 * GitLab's type strings: `<identifier type>_` + rule id, lower-cased (the old analyzer's description "Slack token"
 * gives the same string). Rule ids from GitLab's doc/user/application_security/secret_detection/detected_secrets.md:
 * `Slack token`, `SlackAppConfigurationToken` (`xoxe.xoxp-`/`xoxe.xoxb-`), `SlackAppConfigurationRefreshToken`
 * (`xoxe-`). Both identifier types (ee/lib/security/secret_detection/rule_identifiers.rb). Not `SlackAppLevelToken`
 * (`xapp-`, not revocable by auth.revoke) nor `Slack Webhook`: no API revokes them (list them in REPORT_ONLY_TYPES).
 */
const RULE_IDS = ['slack_token', 'slackappconfigurationtoken', 'slackappconfigurationrefreshtoken'];
export const SLACK_TOKEN_TYPES: readonly string[] = ['gitleaks_rule_id', 'gitlab_secret_scanner_rule_id'].flatMap((id) => RULE_IDS.map((r) => `${id}_${r}`));

export const SLACK_KINDS: readonly TokenKindSpec[] = [
  {
    kind: 'slack_token',
    types: SLACK_TOKEN_TYPES,
    shape: `${SLACK_PREFIXES.map((p) => `\`${p.prefix}\``).join(', ')} + 8..500 of [A-Za-z0-9-]`,
  },
];
