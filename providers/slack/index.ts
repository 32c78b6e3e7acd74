// Public API of the Slack provider.
export { createSlackProvider, LIMITER_KEY, SlackProvider } from './provider.js';
export { classify, GONE_ERRORS, RETRYABLE_ERRORS, retryAfter } from './classify.js';
export { SLACK_KINDS, SLACK_NOT_REVOCABLE, SLACK_PREFIXES, SLACK_TOKEN_TYPES, type SlackPrefix, slackShape } from './kinds.js';
export { SLACK_DEFAULTS, type SlackSettings, validateSlackSettings } from './settings.js';
