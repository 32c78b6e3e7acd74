// src/queue/worker.ts: what a retried job concludes when an earlier attempt's answer was lost.
import { afterLostAnswer } from '../../src/queue/worker.js';

describe('afterLostAnswer (lost answers)', () => {
  it('turns "already gone" or "not found" after a lost answer into what the lost call did; nothing else', () => {
    const data = { v: 1, fp: 'f', type: 't', sealed: 's', acceptedAt: 0, lost: { status: 'reset', via: 'runner_reset', instance: 'gl' } } as const;
    expect(afterLostAnswer({ status: 'not_found', via: 'all_instances' }, data)).toEqual({ status: 'reset', via: 'runner_reset', instance: 'gl' });
    expect(afterLostAnswer({ status: 'already_gone', via: 'admin', instance: 'gl', identified: { id: 7 } }, data)).toEqual({ status: 'reset', via: 'runner_reset', instance: 'gl', identified: { id: 7 } });
    expect(afterLostAnswer({ status: 'revoked', via: 'admin', instance: 'gl' }, data)).toEqual({ status: 'revoked', via: 'admin', instance: 'gl' });
    const { lost: _lost, ...withoutLost } = data;
    expect(afterLostAnswer({ status: 'not_found', via: 'all_instances' }, withoutLost)).toEqual({ status: 'not_found', via: 'all_instances' });
  });
});
