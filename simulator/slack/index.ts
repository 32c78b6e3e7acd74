// Public API of the Slack simulator: start one, mint tokens, inject faults, inspect what was called.
export { type SlackCall, type SlackCallFilter } from './calls.js';
export { type SlackFault, SlackFaults } from './faults.js';
export { startSlackSimulator, type SlackSimulator, type SlackSimulatorOptions } from './server.js';
export { isWellFormed, makeSlackToken, SLACK_TOKEN_KINDS, type SlackTokenKind } from './tokens.js';
