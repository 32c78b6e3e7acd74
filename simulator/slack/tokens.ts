// Slack token shapes the simulator mints and recognises: its own reading of Slack's formats, not the provider's.
import { randomBytes, randomInt } from 'node:crypto';

export type SlackTokenKind = 'bot' | 'user' | 'workspace' | 'legacy' | 'refresh' | 'rotating_user' | 'rotating_bot' | 'rotation_refresh';

const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const digits = (n: number): string => String(randomInt(1, 10)) + Array.from({ length: n - 1 }, () => String(randomInt(0, 10))).join('');
const alnum = (n: number): string => Array.from({ length: n }, () => ALNUM[randomInt(0, ALNUM.length)]).join('');
const hex = (n: number): string => randomBytes(Math.ceil(n / 2)).toString('hex').slice(0, n);

/** Shapes after Slack's token-types docs and the true positives of gitleaks' Slack rules. */
const MINT: Readonly<Record<SlackTokenKind, () => string>> = {
  bot: () => `xoxb-${digits(12)}-${digits(13)}-${alnum(24)}`,
  user: () => `xoxp-${digits(12)}-${digits(12)}-${digits(13)}-${hex(32)}`,
  workspace: () => `xoxa-2-${digits(12)}-${digits(12)}-${digits(13)}-${hex(32)}`,
  legacy: () => `xoxs-${digits(12)}-${digits(12)}-${digits(12)}-${hex(64)}`,
  refresh: () => `xoxr-${digits(1)}-${alnum(40)}`,
  rotating_user: () => `xoxe.xoxp-1-${alnum(163)}`,
  rotating_bot: () => `xoxe.xoxb-1-${alnum(165)}`,
  rotation_refresh: () => `xoxe-1-${alnum(146)}`,
};

export const SLACK_TOKEN_KINDS = Object.keys(MINT) as readonly SlackTokenKind[];

export function makeSlackToken(kind: SlackTokenKind = 'bot'): string {
  const mint = MINT[kind];
  if (!mint) throw new Error(`Slack simulator: unknown token kind ${String(kind)} (one of ${SLACK_TOKEN_KINDS.join(', ')})`);
  return mint();
}

/** What sandbox mode (`autoCreate`) takes for a token Slack could have issued. */
export const isWellFormed = (token: string): boolean => /^(?:xox[abprs]|xoxe\.xox[bp]|xoxe)-[A-Za-z0-9-]{8,}$/.test(token);
