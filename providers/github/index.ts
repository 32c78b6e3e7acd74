// Public API of the GitHub provider.
export { createGitHubProvider } from './provider.js';
export { GITHUB_KINDS, ruleFor, type Handling, type PrefixRule } from './kinds.js';
export { GITHUB_DEFAULTS, type GitHubSettings } from './settings.js';
export { BUDGET_KEY as GITHUB_REVOKE_BUDGET_KEY, TOKEN_BREAKER as GITHUB_TOKEN_BREAKER, MAX_BATCH as GITHUB_MAX_BATCH } from './batch.js';
export { classify as classifyGitHubAnswer, rateLimit as gitHubRateLimit, type Classified as GitHubClassified, type Verdict as GitHubVerdict } from './classify.js';
