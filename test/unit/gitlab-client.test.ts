import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { call, createGitLabClient } from '../../providers/gitlab/client.js';
import { classify } from '../../providers/gitlab/classify.js';

// A private CA's certificate for 127.0.0.1, made with openssl for this test only.
const dir = mkdtempSync(join(tmpdir(), 'trapi-tls-'));
execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'), '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' });
const cert = readFileSync(join(dir, 'cert.pem'), 'utf8');

let server: Server;
let url: string;
const seen: Array<{ ua: string | undefined; token: string | undefined; path: string | undefined }> = [];
let hits = 0;

beforeAll(async () => {
  server = createServer({ key: readFileSync(join(dir, 'key.pem')), cert }, (req, res) => {
    hits++;
    seen.push({ ua: req.headers['user-agent'], token: req.headers['private-token'] as string | undefined, path: req.url });
    res.writeHead(hits === 1 ? 503 : 204).end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

describe('GitLab client', () => {
  it('trusts the instance CA it is given, names the product, and never retries on its own', async () => {
    const client = createGitLabClient({ url, timeoutMs: 2000, ca: cert, userAgent: 'token-revocation-api/9.9.9' });
    const first = await call(client, 'DELETE', 'admin/token', 'glpat-admin', { token: 'glpat-leaked' });
    expect(first.status).toBe(503); // a got-level retry would have turned this into the next answer, 204
    expect(hits).toBe(1);
    expect((await call(client, 'DELETE', 'admin/token', 'glpat-admin', { token: 'glpat-leaked' })).status).toBe(204);
    expect(seen[0]).toEqual({ ua: 'token-revocation-api/9.9.9', token: 'glpat-admin', path: '/api/v4/admin/token' });
  });

  it('refuses an instance whose certificate it cannot verify, as a failure to retry later', async () => {
    const client = createGitLabClient({ url, timeoutMs: 2000, userAgent: 'token-revocation-api/9.9.9' });
    const err = await call(client, 'POST', 'admin/token', 'glpat-admin', { token: 'glpat-leaked' }).catch((e: Error) => e);
    expect(err).toBeInstanceOf(Error);
    expect(classify(err as Error)).toMatchObject({ verdict: 'transient', reason: 'DEPTH_ZERO_SELF_SIGNED_CERT' });
  });
});
