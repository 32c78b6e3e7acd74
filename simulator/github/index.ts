// Public API of the GitHub simulator: start one, issue tokens, inject faults, inspect what was called.
export { startGitHubSimulator, type CallFilter, type CallRecord, type GitHubSimulator, type GitHubSimulatorOptions } from './server.js';
export { Faults, ROUTES, type FaultAction, type FaultSpec, type Route } from './faults.js';
export type { Mode, RevokeCall } from './routes.js';
export { isWellFormed, makeToken, PREFIXES, prefixOf, type TokenPrefix } from './tokens.js';
