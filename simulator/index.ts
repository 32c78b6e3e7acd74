// Public API of the GitLab simulator: start one, seed tokens, inject faults, inspect what was called.
export {
  startGitLabSimulator,
  type AdminTokenState,
  type CreateTokenOptions,
  type GitLabSimulator,
  type GitLabSimulatorOptions,
} from './server.js';
export { type CallFilter, type CallRecord, CallLog, DEFAULT_CALL_LOG_LIMIT } from './calllog.js';
export { type ActiveFault, type FaultAction, type FaultReply, type FaultSpec, Faults, faultReply } from './faults.js';
export { ADMIN_API_MODES, type AdminApiMode } from './routes/context.js';
export { type SimNote, type SimResolution, VULNERABILITY_API_MODES, type VulnerabilityApiMode, VulnerabilityStore } from './vulnerabilities.js';
export {
  isExpired,
  type LookupHints,
  type RevocationEntry,
  type RevokedBy,
  type SeedInput,
  type TokenRecord,
  type TokenState,
  TokenStore,
} from './state.js';
export {
  type AdminAction,
  isTokenKind,
  isWellFormed,
  KINDS,
  kindOf,
  kindSpec,
  type KindSpec,
  makeToken,
  type MakeTokenOptions,
  normalizeInstancePrefix,
  parseToken,
  type ParsedToken,
  type PatSubkind,
  type TokenFormat,
  type TokenKind,
} from './tokens.js';
