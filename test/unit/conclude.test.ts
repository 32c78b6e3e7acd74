import { conclude } from '../../providers/gitlab/provider.js';
import { ExpiringSet } from '../../providers/gitlab/instance.js';
import type { Step } from '../../providers/gitlab/strategies/step.js';

const notHere: Step = { status: 'not_here', summary: '401 Bad Access Token.' };
const transient: Step = { status: 'transient', reason: 'http_503', summary: '503' };
const rateLimited = (ms?: number): Step => ({ status: 'rate_limited', retryAfterMs: ms, summary: '429' });
const refused: Step = { status: 'credential_rejected', reason: 'credential_revoked', summary: '401' };
const unavailable: Step = { status: 'unavailable', reason: 'admin_api_flag_disabled', summary: '404 flag', scope: 'instance' };
const permanent: Step = { status: 'permanent', reason: 'http_400', summary: '400 nope' };

describe('conclude (what several inconclusive steps amount to)', () => {
  it.each<[string, Step[], Record<string, unknown>]>([
    ['every instance says not here', [notHere, notHere], { status: 'not_found' }],
    ['one instance throttles', [notHere, rateLimited(2000), rateLimited(5000)], { status: 'rate_limited', retryAfterMs: 5000 }],
    ['a 429 without any wait', [rateLimited()], { status: 'rate_limited', retryAfterMs: undefined }],
    ['one instance fails transiently', [notHere, transient], { status: 'transient', reason: 'http_503' }],
    ['throttling wins over failures', [transient, rateLimited(1000)], { status: 'rate_limited' }],
    ['our credential is refused', [refused, notHere], { status: 'credential_rejected' }],
    ['a transient failure wins over a refused credential', [refused, transient], { status: 'transient' }],
    ['nothing can act for now', [unavailable], { status: 'transient', reason: 'no_strategy_available', summary: 'no strategy can act for now: 404 flag [admin_api_flag_disabled]' }],
    ['nothing can act until a remembered endpoint is looked at again', [{ ...unavailable, retryAfterMs: 4000 }, { ...unavailable, retryAfterMs: 9000 }], { status: 'transient', reason: 'no_strategy_available', retryAfterMs: 4000 }],
    ['one instance does not know it and the other cannot act for now', [notHere, unavailable], { status: 'transient', reason: 'no_strategy_available' }],
    ['a refusal and a not-here', [permanent, notHere], { status: 'permanent', reason: 'http_400' }],
  ])('when %s', (_when, steps, expected) => {
    expect(conclude(steps)).toMatchObject(expected);
  });
});

describe('ExpiringSet (what is remembered as unavailable)', () => {
  it('forgets a key after its time to live', () => {
    let now = 1000;
    const set = new ExpiringSet(500, () => now);
    set.markUnavailable('a', { reason: 'admin_api_flag_disabled', summary: '404 flag' });
    expect(set.unavailable('a')).toEqual({ reason: 'admin_api_flag_disabled', summary: '404 flag' });
    expect(set.unavailable('b')).toBeUndefined();
    now = 1499;
    expect(set.unavailable('a')).toBeDefined();
    now = 1500;
    expect(set.unavailable('a')).toBeUndefined();
  });
});
