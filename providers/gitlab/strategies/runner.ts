// Strategies `runner_reset` and `runner_delete`: the leaked runner token authenticates its own reset (or deletion).
import type { Strategy } from './step.js';
import { attempt, revokingFailure } from './step.js';

/** Runner endpoints answer 403 to a token they do not know: that is about the leaked token, not about us. */
const runnerStrategy = (name: 'runner_reset' | 'runner_delete', method: 'POST' | 'DELETE', path: string): Strategy => ({
  name,
  async run(instance, token) {
    // The reset answer carries the replacement token: it is classified, never read, logged or stored.
    const c = await attempt(() => instance.send(method, path, undefined, { token }, true), [token]);
    if (c.verdict === 'ok') return { status: name === 'runner_reset' ? 'reset' : 'deleted', via: name };
    if (c.verdict === 'credential_rejected' || c.verdict === 'not_found') return { status: 'not_here', summary: c.summary };
    return revokingFailure(c, { status: name === 'runner_reset' ? 'reset' : 'deleted', via: name });
  },
});

export const runnerReset = runnerStrategy('runner_reset', 'POST', 'runners/reset_authentication_token');
export const runnerDelete = runnerStrategy('runner_delete', 'DELETE', 'runners');
