// Strategy `self`: the leaked access token revokes itself (DELETE /personal_access_tokens/self). Needs no credential of ours.
import { attempt, revokingFailure, type Strategy } from './step.js';

export const self: Strategy = {
  name: 'self',
  async run(instance, token) {
    const c = await attempt(() => instance.send('DELETE', 'personal_access_tokens/self', token), [token]);
    if (c.verdict === 'ok') return { status: 'revoked', via: 'self' };
    // 401 here is about the leaked token, not about us: revoked, expired or unknown on this instance.
    if (c.verdict === 'credential_rejected' && c.reason !== 'insufficient_scope' && c.reason !== 'forbidden') return { status: 'not_here', summary: c.summary };
    // GitLab before 15.4 required the `api` scope to revoke oneself.
    if (c.verdict === 'credential_rejected') return { status: 'unavailable', reason: `self_${c.reason}`, summary: c.summary, scope: 'kind' };
    return revokingFailure(c, { status: 'revoked', via: 'self' });
  },
};
