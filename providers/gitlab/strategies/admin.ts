// Strategy `admin`: identify with POST /admin/token, then revoke or reset with DELETE /admin/token.
import type { Identified } from '../../../src/domain/outcome.js';
import { rulesOf } from '../kinds.js';
import type { Classified } from '../classify.js';
import { attempt, failure, revokingFailure, type Step, type Strategy } from './step.js';
import { asObject } from '../../json.js';

const PATH = 'admin/token';

export const admin: Strategy = {
  name: 'admin',
  credential: 'admin',
  async run(instance, token, kind) {
    const send = (method: 'POST' | 'DELETE') => attempt(() => instance.send(method, PATH, instance.credential('admin'), { token }), [token, instance.credential('admin')]);
    const identify = await send('POST');
    if (identify.verdict !== 'ok') return failure(identify);
    const identified = identifiedFrom(identify.json);
    if (isInactive(identify.json)) return gone('already_gone', identified);

    const revoke = await send('DELETE');
    if (revoke.verdict === 'ok') return gone(rulesOf(kind).adminAction, identified);
    if (revoke.verdict === 'not_found') return gone('already_gone', identified);
    if (revoke.verdict === 'permanent') return afterRefusal(identified, revoke, send);
    return revokingFailure(revoke, { status: rulesOf(kind).adminAction, via: 'admin' });
  },
};

const gone = (status: 'revoked' | 'reset' | 'already_gone', identified: Identified): Step => ({ status, via: 'admin', identified });

/**
 * A refused DELETE may mean the token was already revoked (some records, like pipeline trigger tokens, carry no
 * revocation field) or was revoked between our two calls: read the refusal, then look again, before calling it a failure.
 */
async function afterRefusal(identified: Identified, refused: Classified, send: (m: 'POST') => Promise<Classified>): Promise<Step> {
  if (/already (been )?revoked/i.test(refused.summary)) return gone('already_gone', identified);
  const again = await send('POST');
  if (again.verdict === 'not_found' || (again.verdict === 'ok' && isInactive(again.json))) return gone('already_gone', identified);
  return failure(refused);
}

/** A JSON object's fields; none for anything else. */
const asRecord = (json: unknown): Record<string, unknown> => asObject(json) ?? {};

/**
 * Access-token records carry `revoked` (and `active`, false once revoked or expired); agent tokens carry `status`.
 * A runner entity's `active` is about the runner, not its token, so `active` alone proves nothing.
 */
function isInactive(json: unknown): boolean {
  const r = asRecord(json);
  return r['revoked'] === true || r['status'] === 'revoked' || ('revoked' in r && r['active'] === false);
}

/** What GitLab told us about the token: kind, id, owner. Parsed leniently; never the token itself. */
export function identifiedFrom(json: unknown): Identified {
  const r = asRecord(json);
  const pick = (v: unknown) => (typeof v === 'string' || typeof v === 'number' ? v : undefined);
  const id = pick(r['id']);
  const ownerId = pick(r['user_id'] ?? asRecord(r['user'])['id']);
  const name = pick(r['name'] ?? r['description'] ?? r['username']);
  return {
    kind: 'revoked' in r ? 'access_token' : 'runner_type' in r ? 'runner' : 'other',
    ...(id === undefined ? {} : { id }),
    ...(ownerId === undefined ? {} : { ownerId }),
    ...(name === undefined ? {} : { name: String(name).slice(0, 100) }),
  };
}
