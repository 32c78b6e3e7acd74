// Tokens at rest: AES-256-GCM with a random nonce, bound to the token's fingerprint, tagged with the key's id for rotation.
import { createCipheriv, createDecipheriv, createHash, randomFillSync } from 'node:crypto';
import { AppError } from '../errors.js';

export interface EncryptionKey {
  /** Derived from the key, so the same key always has the same id and none is ever configured by hand. */
  readonly id: string;
  readonly key: Buffer;
}

export class DecryptionError extends AppError {
  constructor(reason: string) {
    super('decryption_failed', reason);
  }
}

export function keyFromBase64(base64: string): EncryptionKey {
  const key = Buffer.from(base64, 'base64');
  if (key.length !== 32) throw new AppError('invalid_configuration', 'TOKEN_ENCRYPTION_KEY must be base64 of exactly 32 bytes');
  return { id: createHash('sha256').update('trapi-key-id\0').update(key).digest('hex').slice(0, 8), key };
}

/** Keys are configured newest first: the newest seals, all of them open. */
export function newestKey(keys: readonly EncryptionKey[]): EncryptionKey {
  const [newest] = keys;
  if (!newest) throw new AppError('invalid_configuration', 'no encryption key is configured');
  return newest;
}

const VERSION = 'v1';
const NONCE_BYTES = 12;

/**
 * Nonces are cut from a block of CSPRNG output, refilled into a fresh buffer when spent, so that each nonce is used
 * once and earlier slices are never overwritten: one call into OpenSSL per 512 nonces instead of one per seal (about
 * 2 us each on our machines; the API seals once per intake job).
 */
let noncePool = Buffer.alloc(0);
let noncePoolOffset = 0;
function nextNonce(): Buffer {
  if (noncePoolOffset + NONCE_BYTES > noncePool.length) {
    noncePool = randomFillSync(Buffer.allocUnsafe(NONCE_BYTES * 512));
    noncePoolOffset = 0;
  }
  const nonce = noncePool.subarray(noncePoolOffset, noncePoolOffset + NONCE_BYTES);
  noncePoolOffset += NONCE_BYTES;
  return nonce;
}

/** Seals `plaintext` as `v1.<kid>.<nonce>.<ciphertext>.<tag>` (base64url). `aad` (the fingerprint) must match on open. */
export function seal(plaintext: string, key: EncryptionKey, aad: string): string {
  const nonce = nextNonce();
  const cipher = createCipheriv('aes-256-gcm', key.key, nonce).setAAD(Buffer.from(aad));
  const ct = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return [VERSION, key.id, nonce.toString('base64url'), ct.toString('base64url'), cipher.getAuthTag().toString('base64url')].join('.');
}

/** Opens a sealed value with whichever configured key has its id. Never includes the plaintext in an error. */
export function open(sealed: string, keys: readonly EncryptionKey[], aad: string): string {
  const [version, kid, nonce, ct, tag] = sealed.split('.');
  if (version !== VERSION || !kid || nonce === undefined || ct === undefined || tag === undefined) {
    throw new DecryptionError('sealed value has an unknown format');
  }
  const key = keys.find((k) => k.id === kid);
  if (!key) throw new DecryptionError(`no configured encryption key has id ${kid}`);
  try {
    const decipher = createDecipheriv('aes-256-gcm', key.key, Buffer.from(nonce, 'base64url')).setAAD(Buffer.from(aad));
    decipher.setAuthTag(Buffer.from(tag, 'base64url'));
    return Buffer.concat([decipher.update(Buffer.from(ct, 'base64url')), decipher.final()]).toString('utf8');
  } catch {
    throw new DecryptionError(`sealed value failed authentication under key ${kid}`);
  }
}

/** The key id a sealed value was made with (re-encryption finds the values an old key still holds). */
export const sealedKeyId = (sealed: string): string | undefined => sealed.split('.')[1];
