import { classify, retryAfter } from '../../providers/gitlab/classify.js';

const answer = (status: number, body: unknown = '', headers: Record<string, string> = {}) => ({
  status,
  headers,
  body: typeof body === 'string' ? body : JSON.stringify(body),
});

describe('classify', () => {
  it.each([
    [204, '', 'ok', 'http_204'],
    [200, { id: 1, revoked: false }, 'ok', 'http_200'],
    [404, { message: { error: 'Not found' } }, 'not_found', 'not_found'],
    [404, { message: "'api_admin_token_revoke' feature flag is disabled" }, 'unavailable', 'admin_api_flag_disabled'],
    [404, { error: '404 Not Found' }, 'unavailable', 'endpoint_absent'],
    [422, { message: 'Token type not supported.' }, 'unavailable', 'token_type_not_supported'],
    [422, '', 'permanent', 'http_422'],
    [400, { message: { error: 'Could not revoke' } }, 'permanent', 'http_400'],
    [401, { error: 'invalid_token', error_description: 'Token is expired. You can either do re-authorization or token refresh.' }, 'credential_rejected', 'credential_expired'],
    [401, { error: 'invalid_token', error_description: 'Token was revoked. You have to re-authorize from the user.' }, 'credential_rejected', 'credential_revoked'],
    [401, { error: 'invalid_token', error_description: 'Bad Access Token.' }, 'credential_rejected', 'credential_invalid'],
    [401, { message: '401 Unauthorized' }, 'credential_rejected', 'credential_invalid'],
    [403, { error: 'insufficient_scope', error_description: 'The request requires higher privileges', scope: 'api' }, 'credential_rejected', 'insufficient_scope'],
    [403, { message: '403 Forbidden' }, 'credential_rejected', 'forbidden'],
    [429, 'Retry later', 'rate_limited', 'http_429'],
    [500, '<html>oops</html>', 'transient', 'http_500'],
    [502, '', 'transient', 'http_502'],
    [503, { message: '503 Service Unavailable' }, 'transient', 'http_503'],
    [408, '', 'transient', 'http_408'],
    [409, { message: 'conflict' }, 'permanent', 'http_409'],
  ])('maps %i %j to %s (%s)', (status, body, verdict, reason) => {
    const c = classify(answer(status, body));
    expect(c.verdict).toBe(verdict);
    expect(c.reason).toBe(reason);
    expect(c.summary.startsWith(String(status))).toBe(true);
  });

  it.each(['ETIMEDOUT', 'ECONNRESET', 'ECONNREFUSED', 'EPIPE'])('treats network failure %s as transient', (code) => {
    const c = classify(Object.assign(new Error('boom'), { code }));
    expect(c).toMatchObject({ verdict: 'transient', reason: code });
  });

  it('scrubs secrets the host might echo', () => {
    const c = classify(answer(400, { message: 'token glpat-secret123456789 is odd' }), ['glpat-secret123456789']);
    expect(c.summary).not.toContain('glpat-secret123456789');
    expect(c.summary).toContain('[redacted]');
  });

  it('summarises an object-valued message', () => {
    expect(classify(answer(400, { message: { error: 'nope' } })).summary).toBe('400 {"error":"nope"}');
  });
});

describe('retryAfter', () => {
  const now = 1_700_000_000_000;
  it('reads Retry-After seconds', () => expect(retryAfter({ 'retry-after': '7' }, now)).toEqual({ retryAfterMs: 7000 }));
  it('reads a Retry-After date', () => expect(retryAfter({ 'retry-after': new Date(now + 3000).toUTCString() }, now).retryAfterMs).toBeCloseTo(3000, -3));
  it('falls back to RateLimit-Reset epoch seconds', () => expect(retryAfter({ 'ratelimit-reset': String(now / 1000 + 12) }, now)).toEqual({ retryAfterMs: 12000 }));
  it('returns nothing without headers', () => expect(retryAfter({}, now)).toEqual({}));
});
