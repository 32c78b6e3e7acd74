// providers/registry.ts: which provider answers for a type string.
import { ProviderRegistry } from '../../providers/registry.js';
import { createReportOnlyProvider } from '../../providers/report-only/index.js';

describe('ProviderRegistry', () => {
  it('lists the union of the providers\' types, sorted and unique; an earlier provider wins a shared type', () => {
    const a = createReportOnlyProvider(['zeta_type', 'alpha_type']);
    const b = { ...createReportOnlyProvider(['alpha_type', 'mid_type']), name: 'other' };
    const registry = new ProviderRegistry([a, b]);
    expect(registry.types()).toEqual(['alpha_type', 'mid_type', 'zeta_type']);
    expect(registry.forType('alpha_type')?.provider.name).toBe('report_only');
    expect(registry.forType('mid_type')?.provider.name).toBe('other');
    expect(registry.supports('unknown_type')).toBe(false);
  });
});
