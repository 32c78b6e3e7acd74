// The events a terminal result is announced as (NOTIFY_ON chooses which notify the webhook): one vocabulary for the
// configuration and the notification queue.

/**
 * What NOTIFY_ON may list: `revoked` covers reset and deleted too; `failed` is a terminal failure; `needs_manual` a
 * report-only type on-call must act on; `submitted` a token the vendor accepted for revocation that nothing can confirm.
 */
export const NOTIFY_EVENTS = ['revoked', 'failed', 'already_gone', 'not_found', 'needs_manual', 'submitted'] as const;
export type NotifyEvent = (typeof NOTIFY_EVENTS)[number];

/** The event of a terminal status (an outcome's, or `failed` / `needs_manual`); undefined: none. */
export const EVENT_OF: Readonly<Record<string, NotifyEvent>> = {
  revoked: 'revoked',
  reset: 'revoked',
  deleted: 'revoked',
  failed: 'failed',
  already_gone: 'already_gone',
  not_found: 'not_found',
  needs_manual: 'needs_manual',
  submitted: 'submitted',
};
