// src/http/auth.ts: where a request's pre-shared credential is read from.
import { presentedCredential } from '../../src/http/auth.js';

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
