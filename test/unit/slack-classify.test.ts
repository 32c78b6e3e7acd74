import { classify, retryAfter } from '../../providers/slack/index.js';

const answer = (status: number, body: unknown = '', headers: Record<string, string> = {}) => ({ status, headers, body: typeof body === 'string' ? body : JSON.stringify(body) });

describe('Slack classify', () => {
  it.each([
    ['revoked', 200, { ok: true, revoked: true }, { status: 'revoked', via: 'auth_revoke', confirmed: true }],
    ['not revoked (a dry run answer)', 200, { ok: true, revoked: false }, { status: 'transient', reason: 'not_revoked' }],
    ['ok without revoked', 200, { ok: true }, { status: 'transient', reason: 'not_revoked' }],
    ['invalid_auth', 200, { ok: false, error: 'invalid_auth' }, { status: 'already_gone', via: 'auth_revoke', confirmed: true }],
    ['token_revoked', 200, { ok: false, error: 'token_revoked' }, { status: 'already_gone', confirmed: true }],
    ['account_inactive', 200, { ok: false, error: 'account_inactive' }, { status: 'already_gone', confirmed: true }],
    ['token_expired', 200, { ok: false, error: 'token_expired' }, { status: 'already_gone', confirmed: true }],
    ['not_authed (Slack saw no token: our request, not the token)', 200, { ok: false, error: 'not_authed' }, { status: 'permanent', reason: 'slack_not_authed' }],
    ['internal_error (may have acted)', 200, { ok: false, error: 'internal_error' }, { status: 'transient', reason: 'slack_internal_error', lost: { status: 'revoked', via: 'auth_revoke' } }],
    ['fatal_error (may have acted)', 200, { ok: false, error: 'fatal_error' }, { status: 'transient', reason: 'slack_fatal_error', lost: { status: 'revoked', via: 'auth_revoke' } }],
    ['request_timeout', 200, { ok: false, error: 'request_timeout' }, { status: 'transient', reason: 'slack_request_timeout' }],
    ['service_unavailable', 200, { ok: false, error: 'service_unavailable' }, { status: 'transient', reason: 'slack_service_unavailable' }],
    ['invalid_arg_name', 200, { ok: false, error: 'invalid_arg_name' }, { status: 'permanent', reason: 'slack_invalid_arg_name', summary: '200 invalid_arg_name' }],
    ['not_bearer_token', 200, { ok: false, error: 'not_bearer_token' }, { status: 'permanent', reason: 'slack_not_bearer_token' }],
    ['ok:false without an error code', 200, { ok: false }, { status: 'permanent', reason: 'slack_unknown_error' }],
    ['ratelimited in a 200', 200, { ok: false, error: 'ratelimited' }, { status: 'rate_limited', retryAfterMs: undefined }],
    ['a non-JSON 200', 200, '<html>maintenance</html>', { status: 'transient', reason: 'non_json_answer' }],
    ['a JSON array 200', 200, '[1]', { status: 'transient', reason: 'non_json_answer' }],
    ['503', 503, '<html>503</html>', { status: 'transient', reason: 'http_503', summary: '503' }],
    ['500 with an error code', 500, { ok: false, error: 'internal_error' }, { status: 'transient', reason: 'http_500', summary: '500 internal_error' }],
    ['408', 408, '', { status: 'transient', reason: 'http_408' }],
    ['404 (a wrong SLACK_API_URL)', 404, { ok: false, error: 'unknown_method' }, { status: 'permanent', reason: 'http_404' }],
  ])('When auth.revoke answers %s, then the outcome is %j', (_name, status, body, expected) => {
    const o = classify(answer(status, body));
    expect(o).toMatchObject(expected);
    if (!('lost' in expected)) expect(o).not.toHaveProperty('lost');
  });

  it('When Slack answers 429 with Retry-After: 30, then it is rate_limited for 30 s', () => {
    expect(classify(answer(429, { ok: false, error: 'ratelimited' }, { 'retry-after': '30' }))).toEqual({ status: 'rate_limited', retryAfterMs: 30_000, summary: '429 ratelimited' });
  });

  it('When Slack answers 429 without Retry-After, then it is rate_limited with no wait (the queue backs off)', () => {
    expect(classify(answer(429, ''))).toMatchObject({ status: 'rate_limited', retryAfterMs: undefined });
  });

  it('When a refresh token is refused, then it is already_gone but unconfirmed', () => {
    expect(classify(answer(200, { ok: false, error: 'invalid_auth' }), { refresh: true })).toEqual({ status: 'already_gone', via: 'auth_revoke', confirmed: false });
  });

  it('When a refresh token is revoked, then Slack said so: confirmed', () => {
    expect(classify(answer(200, { ok: true, revoked: true }), { refresh: true })).toMatchObject({ status: 'revoked', confirmed: true });
  });

  it.each([
    ['ETIMEDOUT', true],
    ['ECONNRESET', true],
    ['EPIPE', true],
    ['ECONNREFUSED', false],
    ['ENOTFOUND', false],
  ])('When the call fails with %s, then it is transient (answer possibly lost: %s)', (code, lost) => {
    const o = classify(Object.assign(new Error('boom'), { code }));
    expect(o).toMatchObject({ status: 'transient', reason: code, summary: `network: ${code}` });
    expect('lost' in o).toBe(lost);
  });

  it("When got's TimeoutError is thrown, then it is transient with the answer possibly lost", () => {
    const err = Object.assign(new Error('Timeout awaiting request'), { name: 'TimeoutError', code: 'ETIMEDOUT' });
    expect(classify(err)).toMatchObject({ status: 'transient', reason: 'TimeoutError', lost: { status: 'revoked' } });
  });

  it('When the error field is not an error code (an echo), then it never reaches the summary or reason', () => {
    const o = classify(answer(200, { ok: false, error: 'xoxb-123456789012-abcdefghijkl echoed' }));
    expect(JSON.stringify(o)).not.toContain('xoxb');
    expect(o).toMatchObject({ status: 'permanent', reason: 'slack_unknown_error' });
  });

  it('When a body carries other fields, then the summary holds only the error code', () => {
    const o = classify(answer(200, { ok: false, error: 'no_permission', needed: 'secret-stuff', warning: 'x' }));
    expect(o).toEqual({ status: 'permanent', reason: 'slack_no_permission', summary: '200 no_permission' });
  });
});

describe('Slack retryAfter', () => {
  const now = 1_700_000_000_000;
  it('When Retry-After is seconds, then it is read as seconds', () => expect(retryAfter({ 'retry-after': '7' }, now)).toEqual({ retryAfterMs: 7000 }));
  it('When Retry-After is an HTTP date, then it is the time until it', () => expect(retryAfter({ 'retry-after': new Date(now + 3000).toUTCString() }, now).retryAfterMs).toBeCloseTo(3000, -3));
  it('When Retry-After is garbage, then there is no wait', () => expect(retryAfter({ 'retry-after': 'soon' }, now)).toEqual({ retryAfterMs: undefined }));
});
