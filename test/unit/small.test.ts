import { revokingFailure } from '../../providers/gitlab/strategies/step.js';
import { afterLostAnswer } from '../../src/queue/worker.js';
import { checkDepth, isJsonMediaType } from '../../src/http/body.js';
import { presentedCredential } from '../../src/http/auth.js';
import { backoffDelay } from '../../src/queue/jobs.js';
import { KIND_RULES, typeString, typesOf } from '../../providers/gitlab/kinds.js';
import { ProviderRegistry } from '../../providers/registry.js';
import { GITHUB_KINDS } from '../../providers/github/index.js';
import { SLACK_KINDS } from '../../providers/slack/index.js';
import { createReportOnlyProvider } from '../../providers/report-only/index.js';

describe('checkDepth', () => {
  it.each([
    ['[]', 1, true],
    ['[{"a":[1]}]', 3, true],
    ['[{"a":[1]}]', 2, false],
    ['["[[[[[[[["]', 1, true],
    ['["\\"[[[["]', 1, true],
  ])('%s within depth %i: %s', (json, depth, ok) => {
    const run = () => checkDepth(Buffer.from(json), depth);
    if (ok) expect(run).not.toThrow();
    else expect(run).toThrow(/entity.too.deep/);
  });
});

describe('isJsonMediaType', () => {
  it.each([
    ['application/json', true],
    ['Application/JSON; charset=utf-8', true],
    [' application/json ;charset=latin1', true], // the charset is judged later, with its own 415
    ['application/vnd.api+json', true],
    ['application/jsonx', false],
    ['application/a/b+json', false],
    ['text/json', false],
    ['text/plain', false],
    ['', false],
    [undefined, false],
  ])('%s: %s', (contentType, ok) => {
    expect(isJsonMediaType(contentType)).toBe(ok);
  });
});

describe('lost answers', () => {
  const wouldBe = { status: 'revoked', via: 'admin' } as const;
  it.each([
    ['ETIMEDOUT', true],
    ['ECONNRESET', true],
    ['TimeoutError', true],
    ['ECONNREFUSED', false], // never sent
    ['http_503', false], // GitLab answered
  ])('a transient %s on the revoking call marks a lost answer: %s', (reason, lost) => {
    const step = revokingFailure({ verdict: 'transient', reason, summary: reason }, wouldBe);
    expect(step).toMatchObject({ status: 'transient', reason });
    expect('lost' in step).toBe(lost);
  });

  it('turns "already gone" or "not found" after a lost answer into what the lost call did; nothing else', () => {
    const data = { v: 1, fp: 'f', type: 't', sealed: 's', acceptedAt: 0, lost: { status: 'reset', via: 'runner_reset', instance: 'gl' } } as const;
    expect(afterLostAnswer({ status: 'not_found', via: 'all_instances' }, data)).toEqual({ status: 'reset', via: 'runner_reset', instance: 'gl' });
    expect(afterLostAnswer({ status: 'already_gone', via: 'admin', instance: 'gl', identified: { id: 7 } }, data)).toEqual({ status: 'reset', via: 'runner_reset', instance: 'gl', identified: { id: 7 } });
    expect(afterLostAnswer({ status: 'revoked', via: 'admin', instance: 'gl' }, data)).toEqual({ status: 'revoked', via: 'admin', instance: 'gl' });
    const { lost: _lost, ...withoutLost } = data;
    expect(afterLostAnswer({ status: 'not_found', via: 'all_instances' }, withoutLost)).toEqual({ status: 'not_found', via: 'all_instances' });
  });
});

describe('presentedCredential', () => {
  it.each([
    [{ authorization: 'raw-token' }, 'raw-token'],
    [{ authorization: 'Bearer raw-token' }, 'raw-token'],
    [{ authorization: 'bearer   raw-token' }, 'raw-token'],
    [{ 'x-gitlab-token': 'old-token' }, 'old-token'],
    [{ authorization: '' }, undefined],
    [{}, undefined],
  ])('reads %j as %s', (headers, expected) => expect(presentedCredential(headers)).toBe(expected));
});

describe('backoffDelay', () => {
  it('doubles per attempt, caps, and jitters within the upper half', () => {
    expect(backoffDelay(1, 1000, 60000, () => 0)).toBe(500);
    expect(backoffDelay(1, 1000, 60000, () => 1)).toBe(1000);
    expect(backoffDelay(4, 1000, 60000, () => 1)).toBe(8000);
    expect(backoffDelay(30, 1000, 60000, () => 1)).toBe(60000);
  });
});

describe('token type strings', () => {
  const kindOfType = (type: string) => KIND_RULES.find((k) => typesOf(k).includes(type))?.kind;

  it('builds type strings the way GitLab does', () => {
    expect(typeString('GitLab Personal Access Token (routable)')).toBe('gitleaks_rule_id_gitlab_personal_access_token_(routable)');
    expect(kindOfType('gitleaks_rule_id_gitlab_runner_authentication_token')).toBe('runner_authentication_token');
    expect(kindOfType('gitleaks_rule_id_gitlab_runner_registration_token')).toBeUndefined();
  });

  it('accepts the newer GitLab secret scanner identifier for every rule id, not for old descriptions', () => {
    for (const k of KIND_RULES) for (const id of k.ids) expect(kindOfType(`gitlab_secret_scanner_rule_id_${id}`)).toBe(k.kind);
    expect(kindOfType('gitlab_secret_scanner_rule_id_gitlab_runner_authentication_token')).toBeUndefined();
  });

  it('offers no type that no GitLab rule produces (feature-flags client tokens have none)', () => {
    expect(KIND_RULES.flatMap(typesOf).filter((t) => t.includes('feature_flag'))).toEqual([]);
  });

  it('documents every type string of every provider in the README', async () => {
    const { readFileSync } = await import('node:fs');
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    const types = [...KIND_RULES.flatMap(typesOf), ...GITHUB_KINDS.flatMap((k) => k.types), ...SLACK_KINDS.flatMap((k) => k.types)];
    expect(types.filter((t) => !readme.includes(`\`${t}\``))).toEqual([]);
  });

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

describe('supported Node.js', () => {
  it.each([
    ['20.20.2', true],
    ['22.11.0', true],
    ['24.22.3', false],
    ['26.0.0', false],
  ])('when the process runs on Node.js %s, then a warning is due: %s', async (version, warns) => {
    const { nodeSupportWarning } = await import('../../src/runtime/node-version.js');
    const warning = nodeSupportWarning(version);
    expect(warning !== undefined).toBe(warns);
    if (warning) expect(warning).toContain(`Node.js ${version} is not supported`);
  });
});
