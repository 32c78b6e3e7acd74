// A token's fingerprint: its only name in job ids, Redis keys, logs and records.
import { createHash } from 'node:crypto';

/**
 * SHA-256 over a domain-separated token. Unkeyed on purpose: it must stay the same across encryption-key
 * rotations and replicas, and leaked tokens carry 100+ bits of entropy, so the digest cannot be inverted by guessing.
 */
export const fingerprint = (token: string): string => createHash('sha256').update('trapi-token\0').update(token, 'utf8').digest('hex');

/** What a log line carries: enough to find the record, too little to matter. */
export const shortFingerprint = (fp: string): string => fp.slice(0, 12);
