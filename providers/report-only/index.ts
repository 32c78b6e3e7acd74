// Report-only types (REPORT_ONLY_TYPES): findings no API can revoke (cloud keys, Stripe keys, Slack webhooks...),
// accepted so that a human hears of them. Nothing is ever sent anywhere: each becomes on-call work (`needs_manual`).
import type { Provider, TokenKindSpec } from '../contract.js';

export function createReportOnlyProvider(types: readonly string[]): Provider {
  const kinds: TokenKindSpec[] = types.map((type) => ({ kind: type, types: [type], shape: 'any: reported, never sent' }));
  return {
    name: 'report_only',
    kinds,
    revoke: () =>
      Promise.resolve({
        status: 'needs_manual',
        reason: 'report_only',
        summary: 'no API can revoke this type: revoke or rotate it at its vendor by hand (see the location), then settle it with `trapi resolve`',
      }),
  };
}
