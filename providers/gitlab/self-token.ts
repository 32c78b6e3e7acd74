// Our own credential asking GitLab about itself (GET /personal_access_tokens/self) and rotating itself (…/self/rotate).
import type { RotationTarget } from '../../src/domain/credentials.js';
import { attempt } from './strategies/step.js';
import type { GitLabInstance } from './instance.js';
import { asObject } from '../json.js';

export const rotationPath = (t: RotationTarget): string =>
  t.endpoint === 'personal' ? 'personal_access_tokens/self/rotate' : `${t.endpoint === 'project' ? 'projects' : 'groups'}/${t.id}/access_tokens/self/rotate`;

/** Scopes GitLab accepts for self-rotation. */
export const ROTATION_SCOPES: readonly string[] = ['api', 'self_rotate'];

export type SelfCheck =
  | { readonly kind: 'active'; readonly expiresAt: string | null; readonly scopes: readonly string[] }
  /** GitLab says the token is revoked, expired or unknown (401): it will never work again. */
  | { readonly kind: 'refused'; readonly reason: string; readonly summary: string }
  /** No answer we can rely on (network, 5xx, 429, anything odd): ask again later. */
  | { readonly kind: 'unknown'; readonly reason: string; readonly summary: string };

export type RotateResult =
  | { readonly kind: 'rotated'; readonly token: string; readonly expiresAt: string | null }
  /** GitLab answered that it did not rotate (auth, scope, validation, throttling): the old token is untouched. */
  | { readonly kind: 'refused'; readonly reason: string; readonly summary: string }
  /** No answer, or one that does not say: the token may or may not have been rotated. Recover, never retry blindly. */
  | { readonly kind: 'unknown'; readonly reason: string; readonly summary: string };

/** Reads a credential's own record: whether it works, when it expires, what it may do. */
export async function checkSelf(instance: GitLabInstance, token: string): Promise<SelfCheck> {
  const c = await attempt(() => instance.sendDirect('GET', 'personal_access_tokens/self', token), [token]);
  if (c.verdict === 'ok') {
    const json = asObject(c.json);
    if (json === undefined) return { kind: 'unknown', reason: 'malformed_answer', summary: 'GET personal_access_tokens/self answered 200 without a token record' };
    const scopes = Array.isArray(json['scopes']) ? json['scopes'].filter((s): s is string => typeof s === 'string') : [];
    if (json['active'] === false || json['revoked'] === true) return { kind: 'refused', reason: 'credential_inactive', summary: c.summary };
    return { kind: 'active', expiresAt: typeof json['expires_at'] === 'string' ? json['expires_at'] : null, scopes };
  }
  // 401 is about this very token; a 403 here (an instance blocking the endpoint) says nothing about it.
  if (c.verdict === 'credential_rejected' && c.reason !== 'insufficient_scope' && c.reason !== 'forbidden') return { kind: 'refused', reason: c.reason, summary: c.summary };
  return { kind: 'unknown', reason: c.reason, summary: c.summary };
}

/**
 * One rotation request. The caller must have just seen the token active under the rotation lock: rotating a token
 * that was already rotated makes GitLab revoke its whole family, our new token included.
 */
export async function rotateSelf(instance: GitLabInstance, token: string, target: RotationTarget, expiresAt: string): Promise<RotateResult> {
  // A network failure classifies as transient: `unknown` below, since the rotation may have happened.
  const c = await attempt(() => instance.sendDirect('POST', rotationPath(target), token, { expires_at: expiresAt }), [token]);
  if (c.verdict === 'ok') {
    const json = asObject(c.json);
    const fresh = json?.['token'];
    // A 200 without the new token is the worst case: it probably rotated and we cannot see the successor.
    if (typeof fresh !== 'string' || fresh.length === 0) return { kind: 'unknown', reason: 'rotate_answer_without_token', summary: `HTTP ${c.reason.slice(5)} without a token field` };
    return { kind: 'rotated', token: fresh, expiresAt: typeof json?.['expires_at'] === 'string' ? json['expires_at'] : null };
  }
  // GitLab authenticates and validates before rotating: these answers mean nothing changed.
  if (c.verdict === 'credential_rejected' || c.verdict === 'rate_limited' || c.verdict === 'permanent' || c.verdict === 'unavailable' || c.verdict === 'not_found') {
    return { kind: 'refused', ...pick(c) };
  }
  return { kind: 'unknown', ...pick(c) };
}

const pick = (c: { reason: string; summary: string }) => ({ reason: c.reason, summary: c.summary });

