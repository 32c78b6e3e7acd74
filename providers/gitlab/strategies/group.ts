// Strategy `group`: a top-level group owner revokes tokens with access to the group (POST /groups/:id/tokens/revoke).
import { rulesOf } from '../kinds.js';
import { identifiedFrom } from './admin.js';
import { attempt, revokingFailure, type Strategy } from './step.js';

export const group: Strategy = {
  name: 'group',
  credential: 'group',
  async run(instance, token, kind) {
    const g = instance.settings.group;
    if (!g) return { status: 'unavailable', reason: 'no_group_configured', summary: 'no group configured', scope: 'instance' };
    // The live credential: self-rotation replaces the configured one while the service runs.
    const credential = instance.credential('group');
    if (credential === undefined) return { status: 'unavailable', reason: 'no_group_configured', summary: 'no group credential configured', scope: 'instance' };
    const c = await attempt(() => instance.send('POST', `groups/${g.id}/tokens/revoke`, credential, { token }), [token, credential]);
    // Like the admin API, GitLab resets what it cannot revoke (feed tokens).
    if (c.verdict === 'ok') return { status: rulesOf(kind).adminAction, via: 'group', identified: identifiedFrom(c.json) };
    // "Any failure a bare 422": the token is unknown, already revoked, or outside this group. Not ours to conclude more.
    if (c.verdict === 'permanent' && c.reason === 'http_422') return { status: 'not_here', summary: c.summary };
    return revokingFailure(c, { status: rulesOf(kind).adminAction, via: 'group' });
  },
};
