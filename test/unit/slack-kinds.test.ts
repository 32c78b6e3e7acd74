import { SLACK_DEFAULTS, SLACK_KINDS, slackShape, validateSlackSettings } from '../../providers/slack/index.js';
import { makeSlackToken, SLACK_TOKEN_KINDS } from '../../simulator/slack/index.js';

describe('Slack token shapes', () => {
  it.each([
    ['xoxb-781236542736-2364535789652-GkwFDQoHqzXDVsC6GzqYUypD', 'xoxb-', false],
    ['xoxp-41684372915-1320496754-45609968301-e708ba56e1517a99f6b5fb07349476ef', 'xoxp-', false],
    ['xoxa-2-511111111-31111111111-3111111111111-e039d02840a0b9379c', 'xoxa-', false],
    ['xoxr-1-abcdefghijkl', 'xoxr-', true],
    ['xoxs-416843729158-132049654-5609968301-e708ba56e1', 'xoxs-', false],
    ['xoxe.xoxp-1-Mi0yLTM0MTQwNDE0MDE3Ni0zNjU5NDY0Njg4MTct', 'xoxe.xoxp-', false],
    ['xoxe.xoxb-1-Mi0yLTMxNzcwMjQ0MTcxMy0zNjU5NDY0Njg4MTct', 'xoxe.xoxb-', false],
    ['xoxe-1-My0xLTMxNzcwMjQ0MTcxMy01MTU4MTUyNjkxNzE0LTUx', 'xoxe-', true],
  ])('When the token is %s, then it is a %s token (refresh: %s)', (token, prefix, refresh) => {
    expect(slackShape(token)).toMatchObject({ prefix, refresh });
  });

  it.each([
    ['an empty string', ''],
    ['a bare prefix', 'xoxb-'],
    ['a short tail', 'xoxb-1234567'],
    ['a GitLab token', 'glpat-abcdefghijklmnopqrst'],
    ['a webhook URL', 'https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX'],
    ['an app-level token (not revocable by auth.revoke)', 'xapp-1-A052FGTS2DL-5171572773297-610b6a11f4b7eb819e87b767d80e6575'],
    ['a browser session token (needs its cookie)', 'xoxc-123456789012-123456789012-123456789012-abcdef'],
    ['an upper-case prefix', 'XOXB-781236542736-2364535789652-GkwFDQoHqzXDVsC6GzqYUypD'],
    ['a space inside', 'xoxb-781236542736 2364535789652'],
    ['a line break (header injection)', 'xoxb-781236542736\r\nX-Evil: 1'],
    ['a tail over 500 characters', `xoxb-${'a'.repeat(501)}`],
  ])('When the token is %s, then it is not a Slack token shape', (_name, token) => {
    expect(slackShape(token)).toBeUndefined();
  });

  it.each(SLACK_TOKEN_KINDS)("When the simulator mints a %s token, then the provider's shape check accepts it", (kind) => {
    expect(slackShape(makeSlackToken(kind))).toBeDefined();
  });
});

describe('Slack kinds', () => {
  it('When GitLab asks what Slack revokes, then it is the slack_token type and never the webhook', () => {
    const types = SLACK_KINDS.flatMap((k) => k.types);
    expect(types).toContain('gitleaks_rule_id_slack_token');
    expect(types).not.toContain('gitleaks_rule_id_slack_webhook');
    for (const t of types) expect(t).toBe(t.toLowerCase());
    expect(SLACK_KINDS.map((k) => k.shape).join(' ')).toContain('`xoxe.xoxp-`');
  });
});

describe('Slack settings', () => {
  it('When the defaults are validated, then they pass unchanged', () => expect(validateSlackSettings(SLACK_DEFAULTS)).toEqual(SLACK_DEFAULTS));
  it('When apiUrl ends with a slash, then it is trimmed', () => expect(validateSlackSettings({ ...SLACK_DEFAULTS, apiUrl: 'http://127.0.0.1:9/api/' }).apiUrl).toBe('http://127.0.0.1:9/api'));
  it.each([
    [{ apiUrl: 'slack.com/api' }, /apiUrl/],
    [{ apiUrl: 'ftp://slack.com/api' }, /apiUrl/],
    [{ perSecond: 0 }, /perSecond/],
    [{ concurrency: 1.5 }, /concurrency/],
    [{ timeoutMs: -1 }, /timeoutMs/],
  ])('When a setting is %j, then start-up fails naming it', (bad, message) => {
    expect(() => validateSlackSettings({ ...SLACK_DEFAULTS, ...bad })).toThrow(message);
  });
});
