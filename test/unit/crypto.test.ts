import { randomBytes } from 'node:crypto';
import { DecryptionError, keyFromBase64, open, seal } from '../../src/domain/crypto.js';
import { fingerprint } from '../../src/domain/fingerprint.js';

const key = keyFromBase64(randomBytes(32).toString('base64'));
const other = keyFromBase64(randomBytes(32).toString('base64'));
const token = 'glpat-abcdefghij0123456789';
const fp = fingerprint(token);

describe('token encryption at rest', () => {
  it('round-trips, with a fresh nonce each time and no plaintext in the sealed form', () => {
    const a = seal(token, key, fp);
    const b = seal(token, key, fp);
    expect(a).not.toBe(b);
    expect(a).not.toContain(token);
    expect(a.split('.')[1]).toBe(key.id);
    expect(open(a, [other, key], fp)).toBe(token);
  });

  it('never reuses a nonce, across refills of the pool it is cut from', () => {
    const nonces = Array.from({ length: 2000 }, () => seal(token, key, fp).split('.')[2]);
    expect(new Set(nonces).size).toBe(2000);
    expect(nonces.every((n) => Buffer.from(n ?? '', 'base64url').length === 12)).toBe(true);
  });

  it('refuses a value sealed for another fingerprint', () => {
    expect(() => open(seal(token, key, fp), [key], fingerprint('other'))).toThrow(DecryptionError);
  });

  it('refuses a tampered value', () => {
    const parts = seal(token, key, fp).split('.');
    parts[3] = Buffer.from('x'.repeat(token.length)).toString('base64url');
    expect(() => open(parts.join('.'), [key], fp)).toThrow(DecryptionError);
  });

  it('names the missing key id, never the plaintext, when no configured key fits', () => {
    const sealed = seal(token, key, fp);
    expect(() => open(sealed, [other], fp)).toThrow(new RegExp(key.id));
  });

  it('derives a stable key id from the key', () => {
    expect(keyFromBase64(key.key.toString('base64')).id).toBe(key.id);
    expect(key.id).not.toBe(other.id);
  });
});

describe('fingerprint', () => {
  it('is a stable 64-hex digest that does not contain the token', () => {
    expect(fingerprint(token)).toMatch(/^[0-9a-f]{64}$/);
    expect(fingerprint(token)).toBe(fp);
    expect(fingerprint(`${token}x`)).not.toBe(fp);
  });
});
