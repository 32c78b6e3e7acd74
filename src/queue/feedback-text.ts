// The note a triager reads on the vulnerability: what kind of token, what was identified, how, when, and for a failure
// what on-call can do. Never the token: a 12-character fingerprint prefix at most.
import { shortFingerprint } from '../domain/fingerprint.js';
import type { Identified } from '../domain/outcome.js';
import type { Settled } from './journal.js';

/**
 * What a note is written from: a terminal result as the journal tells it (an outcome record, or on-call's resolve,
 * fills the same fields; `status` may also be `resolved`), and when it was settled (ISO).
 */
export type FeedbackSubject = Pick<Settled, 'fingerprint' | 'type' | 'status' | 'kind' | 'provider' | 'strategy' | 'instance' | 'identified' | 'confirmed' | 'reason'> & { readonly at: string };

const HEADLINE: Readonly<Record<string, string>> = {
  revoked: 'The leaked token was revoked.',
  reset: 'The leaked token was reset: it no longer works (its owner keeps a new one).',
  deleted: 'The leaked token was deleted, together with what it belonged to (a runner).',
  already_gone: 'The leaked token was already revoked or expired when we checked: nothing was left to do.',
  not_found: 'The leaked token is not known to any instance we can ask (already revoked, expired, or from elsewhere): nothing was revoked.',
  submitted: 'The leaked token was submitted for revocation, but nothing can confirm it is dead: check it by hand.',
  failed: 'The leaked token could NOT be revoked automatically: it may still work.',
  needs_manual: 'No API can revoke this kind of secret: it must be revoked by hand at its vendor.',
  resolved: 'The leaked token was settled by on-call (revoked out of band, or judged harmless).',
};

/** Statuses for which on-call still has work: the note says what they can do. */
const ON_CALL: ReadonlySet<string> = new Set(['failed', 'needs_manual', 'submitted']);

const clip = (s: string, max: number): string => (s.length > max ? `${s.slice(0, max - 1)}…` : s);
const code = (s: string): string => `\`${s.replace(/`/g, "'")}\``;

function identifiedText(i: Identified): string | undefined {
  const parts = [
    i.kind === undefined ? undefined : i.kind.replace(/_/g, ' '),
    i.id === undefined ? undefined : `id ${String(i.id)}`,
    i.name === undefined ? undefined : `"${clip(String(i.name), 100)}"`,
    i.ownerId === undefined ? undefined : `owned by user ${String(i.ownerId)}`,
  ].filter((p) => p !== undefined);
  return parts.length > 0 ? parts.join(', ') : undefined;
}

/** Markdown, as notes are rendered. */
export function feedbackText(s: FeedbackSubject): string {
  const fp = shortFingerprint(s.fingerprint);
  const kind = s.kind === undefined ? code(s.type) : `${s.kind.replace(/_/g, ' ')} (${code(s.type)})`;
  const how = [s.provider && `provider ${code(s.provider)}`, s.strategy && `strategy ${code(s.strategy)}`, s.instance && `instance ${code(s.instance)}`].filter(Boolean).join(', ');
  const lines = [
    `**Token Revocation API:** ${HEADLINE[s.status] ?? `The leaked token ended ${s.status}.`}`,
    '',
    `- Token: ${kind}, fingerprint ${code(fp)}`,
    ...(s.identified && identifiedText(s.identified) ? [`- Identified as: ${identifiedText(s.identified) ?? ''}`] : []),
    ...(how ? [`- How: ${how}${s.confirmed === true ? '; confirmed: the token itself is now refused' : s.confirmed === false ? '; unconfirmed' : ''}`] : []),
    `- When: ${s.at}`,
    ...(s.reason ? [`- Reason: ${clip(s.reason, 500)}`] : []),
  ];
  if (ON_CALL.has(s.status)) {
    lines.push(
      '',
      `On-call: \`trapi show ${fp}\` has the details. Once the cause is fixed, \`trapi replay ${fp}\` tries again; ` +
        `if the token was revoked by hand (or is harmless), \`trapi resolve ${fp} --reason "..."\` settles it.`,
    );
  }
  return lines.join('\n');
}
