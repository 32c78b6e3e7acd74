import { classifyGitHubAnswer as classify, gitHubRateLimit, GITHUB_KINDS, ruleFor } from '../../providers/github/index.js';

const NOW = 1_800_000_000_000;
const answer = (status: number, headers: Record<string, string> = {}, body: unknown = { message: 'x' }) => ({ status, headers, body: typeof body === 'string' ? body : JSON.stringify(body) });
const rl = (reset: number, extra: Record<string, string> = {}) => ({ 'x-ratelimit-limit': '60', 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': String(reset), ...extra });

describe('classify (GitHub answers)', () => {
  it.each([
    ['202', 'ok', answer(202, {}, {})],
    ['204', 'ok', answer(204, {}, '')],
    ['401 Bad credentials', 'unauthorized', answer(401, {}, { message: 'Bad credentials' })],
    ['403 without rate-limit headers', 'forbidden', answer(403, { 'x-ratelimit-remaining': '41' }, { message: 'Resource not accessible by integration' })],
    ['403 with x-ratelimit-remaining 0', 'rate_limited', answer(403, rl(NOW / 1000 + 30))],
    ['403 with Retry-After', 'rate_limited', answer(403, { 'retry-after': '5' })],
    ['403 saying "secondary rate limit"', 'rate_limited', answer(403, {}, { message: 'You have exceeded a secondary rate limit' })],
    ['429 with headers', 'rate_limited', answer(429, rl(NOW / 1000 + 30))],
    ['429 without headers', 'rate_limited', answer(429)],
    ['422 validation failed', 'validation_failed', answer(422, {}, { message: 'Validation Failed' })],
    ['500', 'transient', answer(500, {}, { message: 'Server Error' })],
    ['503 text body', 'transient', answer(503, {}, '<html>oops</html>')],
    ['404', 'unexpected', answer(404, {}, { message: 'Not Found' })],
  ])('When GitHub answers %s, then the verdict is %s', (_what, verdict, a) => {
    expect(classify(a, [], NOW).verdict).toBe(verdict);
  });

  it('When a 422 says the endpoint has been spammed, then the reason says so', () => {
    expect(classify(answer(422, {}, { message: 'Validation failed, or the endpoint has been spammed.' })).reason).toBe('spammed');
  });

  it('When Retry-After and x-ratelimit-reset are both given, then Retry-After decides the wait', () => {
    expect(gitHubRateLimit(answer(429, rl(NOW / 1000 + 600, { 'retry-after': '7' })), NOW)?.retryAfterMs).toBe(7000);
  });

  it('When only x-ratelimit-reset is given, then the wait lasts until that second has passed', () => {
    expect(gitHubRateLimit(answer(403, rl(NOW / 1000 + 30)), NOW)?.retryAfterMs).toBe(31_000);
  });

  it('When the reset is already past, then the wait is about a second, never negative', () => {
    expect(gitHubRateLimit(answer(403, rl(NOW / 1000 - 100)), NOW)?.retryAfterMs).toBe(1000);
  });

  it('When a rate limit names no time, then the wait is GitHub\'s advised minute', () => {
    expect(gitHubRateLimit(answer(429), NOW)?.retryAfterMs).toBe(60_000);
  });

  it('When Retry-After is an HTTP date, then the wait runs until it', () => {
    expect(gitHubRateLimit(answer(429, { 'retry-after': new Date(NOW + 12_000).toUTCString() }), NOW)?.retryAfterMs).toBe(12_000);
  });

  it('When x-ratelimit-reset is given but requests remain, then a 403 is no rate limit', () => {
    expect(gitHubRateLimit(answer(403, { 'x-ratelimit-remaining': '3', 'x-ratelimit-reset': String(NOW / 1000 + 30) }), NOW)).toBeUndefined();
  });

  it('When the network fails, then the verdict is transient with the error code', () => {
    const err = Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
    expect(classify(err)).toEqual({ verdict: 'transient', reason: 'ECONNRESET', summary: 'network: ECONNRESET' });
  });

  it('When an answer echoes a token, then the summary holds neither it nor anything shaped like a GitHub token', () => {
    const token = `ghp_${'a'.repeat(36)}`;
    const other = `github_pat_${'B'.repeat(82)}`;
    const s = classify(answer(422, {}, { message: `bad credential ${token} and ${other} and secret-xyz` }), ['secret-xyz']).summary;
    expect(s).toBe('422 bad credential [redacted] and [redacted] and [redacted]');
  });

  it('When a body is not JSON, then the summary is the status alone', () => {
    expect(classify(answer(502, {}, `<html>ghp_${'x'.repeat(36)}</html>`)).summary).toBe('502');
  });
});

describe('ruleFor (formats per kind)', () => {
  const classic = (p: string, c = 'A') => `${p}${c.repeat(36)}`;
  const pat = `github_pat_11ABCDEFG0123456789abc_${'x'.repeat(59)}`;
  it.each([
    ['personal_access_token', classic('ghp_'), 'batch_confirmable'],
    ['fine_grained_personal_access_token', pat, 'batch_confirmable'],
    ['oauth_access_token', classic('gho_'), 'batch_confirmable'],
    ['app_token', classic('ghu_'), 'batch_confirmable'],
    ['app_token', classic('ghs_'), 'installation'],
    ['refresh_token', classic('ghr_'), 'batch_unconfirmable'],
  ])('When a %s is well formed (%s), then it is handled as %s', (kind, token, handling) => {
    expect(ruleFor(kind, token)?.handling).toBe(handling);
  });

  it.each([
    ['personal_access_token', `ghp_${'A'.repeat(35)}`, 'one character short'],
    ['personal_access_token', `ghp_${'A'.repeat(37)}`, 'one character long'],
    ['personal_access_token', `ghp_${'A'.repeat(35)}_`, 'an underscore'],
    ['personal_access_token', classic('gho_'), 'another kind\'s prefix'],
    ['app_token', classic('ghp_'), 'a prefix app tokens never carry'],
    ['fine_grained_personal_access_token', `github_pat_${'x'.repeat(81)}`, '81 characters'],
    ['fine_grained_personal_access_token', `github_pat_${'x'.repeat(81)}-`, 'a dash'],
    ['refresh_token', ` ${classic('ghr_')}`, 'a leading space'],
    ['unknown_kind', classic('ghp_'), 'an unknown kind'],
  ])('When a %s has %s (%s), then it is refused', (kind, token) => {
    expect(ruleFor(kind, token)).toBeUndefined();
  });

  it('When the kinds are listed, then each names its GitLab type strings and its shape', () => {
    const both = (id: string) => [`gitleaks_rule_id_${id}`, `gitlab_secret_scanner_rule_id_${id}`];
    expect(GITHUB_KINDS.map((k) => [k.kind, k.types])).toEqual([
      ['personal_access_token', both('github_personal_access_token')],
      ['fine_grained_personal_access_token', both('githubfinegrainedpersonalaccesstoken')],
      ['oauth_access_token', both('github_oauth_access_token')],
      ['app_token', both('github_app_token')],
      ['app_installation_token', both('githubappinstallationtoken')],
      ['refresh_token', both('github_refresh_token')],
    ]);
    expect(GITHUB_KINDS.every((k) => k.shape.length > 0 && !('prefixes' in k))).toBe(true);
  });
});
