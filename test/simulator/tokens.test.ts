// Token kinds: prefixes, shapes and generation follow the contract's token table.
import { isWellFormed, KINDS, kindOf, makeToken, parseToken, type TokenFormat, type TokenKind } from '../../simulator/index.js';

const ALL_KINDS = KINDS.map((k) => k.kind);

describe('GitLab simulator', () => {
  describe('token kinds', () => {
    it.each([
      ['glpat-abcdefghij0123456789', 'personal_access_token', 'legacy'],
      ['glrt-abcdefghij0123456789', 'runner_authentication_token', 'legacy'],
      ['glrtr-abcdefghij0123456789', 'runner_authentication_token', 'legacy'],
      ['GR1348941abcdefghij0123456789', 'runner_registration_token', 'legacy'],
      ['glptt-' + 'a'.repeat(40), 'pipeline_trigger_token', 'legacy'],
      ['glptt-' + 'a'.repeat(20), 'pipeline_trigger_token', 'legacy'],
      ['gldt-abcdefghij0123456789', 'deploy_token', 'legacy'],
      ['glft-abcdefghij0123456789', 'feed_token', 'legacy'],
      ['gloas-' + 'b'.repeat(64), 'oauth_application_secret', 'legacy'],
      ['glagent-' + 'c'.repeat(50), 'cluster_agent_token', 'legacy'],
      ['glimt-' + 'd'.repeat(25), 'incoming_email_token', 'legacy'],
      ['glcbt-64_abcdefghij0123456789', 'ci_job_token', 'legacy'],
      ['glsoat-abcdefghij0123456789', 'scim_oauth_token', 'legacy'],
      ['glffct-abcdefghij0123456789', 'feature_flags_client_token', 'legacy'],
      ['glpat-' + 'x'.repeat(27) + '.01abcdefg', 'personal_access_token', 'routable'],
      ['glpat-' + 'x'.repeat(27) + '.01.01abcdefg', 'personal_access_token', 'versioned'],
      ['glrt-t1_' + 'x'.repeat(30) + '.01abcdefg', 'runner_authentication_token', 'routable'],
    ])('parses %s as %s (%s)', (token, kind, format) => {
      expect(parseToken(token)).toMatchObject({ kind, format });
    });

    it.each(['ghp_abcdefghij0123456789', 'glxyz-abcdefghij0123456789', '', 'GLPAT-abcdefghij0123456789'])('knows no kind for %j', (token) => {
      expect(kindOf(token)).toBeUndefined();
    });

    it('knows the kind but not the shape of a truncated token', () => {
      expect(parseToken('glpat-short')).toMatchObject({ kind: 'personal_access_token', format: undefined });
      expect(isWellFormed('glpat-short')).toBe(false);
    });

    it('strips an instance-wide prefix, with or without its dash, and still reads unprefixed tokens', () => {
      expect(kindOf('mycompany-glpat-abcdefghij0123456789', 'mycompany')).toBe('personal_access_token');
      expect(kindOf('mycompany-glpat-abcdefghij0123456789', 'mycompany-')).toBe('personal_access_token');
      expect(kindOf('glpat-abcdefghij0123456789', 'mycompany')).toBe('personal_access_token');
      expect(kindOf('othercorp-glpat-abcdefghij0123456789', 'mycompany')).toBeUndefined();
    });

    const formats: TokenFormat[] = ['legacy', 'routable', 'versioned'];
    it.each(ALL_KINDS.flatMap((kind) => formats.map((format) => [kind, format] as [TokenKind, TokenFormat])))(
      'makes a well-formed %s in %s format',
      (kind, format) => {
        const token = makeToken(kind, { format });
        expect(parseToken(token)).toMatchObject({ kind, format });
        expect(makeToken(kind, { format })).not.toBe(token);
      },
    );

    it('makes glrtr- runner tokens and instance-prefixed tokens on request', () => {
      expect(makeToken('runner_authentication_token', { prefix: 'glrtr-' })).toMatch(/^glrtr-[0-9A-Za-z_-]{20}$/);
      expect(makeToken('personal_access_token', { instancePrefix: 'acme' })).toMatch(/^acme-glpat-[0-9A-Za-z_-]{20}$/);
      expect(() => makeToken('deploy_token', { prefix: 'glpat-' })).toThrow(/not a prefix/);
    });

    it('gives routable tokens the contract shape with a base36 CRC tail', () => {
      expect(makeToken('personal_access_token', { format: 'routable' })).toMatch(/^glpat-[0-9A-Za-z_-]{27,300}\.[0-9a-z]{2}[0-9a-z]{7}$/);
      expect(makeToken('runner_authentication_token', { format: 'routable' })).toMatch(/^glrt-t\d_/);
    });
  });
});
