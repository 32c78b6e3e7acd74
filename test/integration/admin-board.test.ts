// The admin API and Bull Board at their exact paths only, counted under a bounded route label, and a board page that
// makes no request to another host.
import { randomBytes } from 'node:crypto';
import request from 'supertest';
import { useStack } from '../support/stack.js';

const ADMIN = `board-admin-secret-${randomBytes(12).toString('hex')}`;

const stack = useStack({ env: { ROLE: 'api', ADMIN_API_TOKENS: `oncall:${ADMIN}` } });

const get = (path: string) => request(stack.service.url).get(path).set('Authorization', `Bearer ${ADMIN}`);

describe('admin routing is strict and case-sensitive', () => {
  it.each(['/admin/status/', '/ADMIN/status', '/admin/Status', '/Admin/queues', '/ADMIN/QUEUES', '/admin/failed/'])('answers GET %s with 404 not_found', async (path) => {
    const res = await get(path);
    expect(res.status).toBe(404);
    expect(res.body).toEqual({ error: 'not_found', message: expect.any(String) });
  });

  it('still answers the exact paths', async () => {
    expect((await get('/admin/status')).status).toBe(200);
    expect((await get('/admin/failed')).status).toBe(200);
    expect((await get('/admin/queues')).status).toBe(200);
  });
});

/** The request counter's samples, as `route method status` -> count. */
async function requestCounts(): Promise<Map<string, number>> {
  const res = await request(stack.service.url).get('/metrics');
  expect(res.status).toBe(200);
  const counts = new Map<string, number>();
  for (const line of res.text.split('\n')) {
    const m = /^trapi_http_requests_total\{(.*)\} (\S+)$/.exec(line);
    if (!m) continue;
    const labels = Object.fromEntries([...(m[1] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((l) => [l[1], l[2]]));
    counts.set(`${labels['route']} ${labels['method']} ${labels['status']}`, Number(m[2]));
  }
  return counts;
}

describe('Bull Board in the request metric', () => {
  it('counts every board request under route="/admin/queues", never its raw path or "unmatched"', async () => {
    const before = await requestCounts();
    const page = await get('/admin/queues');
    const script = /src="(static\/js\/[^"]+\.js)"/.exec(page.text)?.[1];
    expect(script).toBeDefined();
    const paths = ['/admin/queues', '/admin/queues/', `/admin/queues/${script}`, '/admin/queues/api/queues?activeQueue=revocations&status=latest&page=1', '/admin/queues/queue/revocations', `/admin/queues/static/no-such-${randomBytes(4).toString('hex')}.js`];
    for (const path of paths) await get(path);
    await request(stack.service.url).get('/admin/queues'); // no credential: 401
    const after = await requestCounts();
    const grown = [...after].filter(([k, n]) => n > (before.get(k) ?? 0)).map(([k]) => k);
    expect(grown.filter((k) => !k.startsWith('/metrics '))).toEqual(expect.arrayContaining(['/admin/queues GET 200', '/admin/queues GET 401']));
    expect(grown.filter((k) => !k.startsWith('/metrics ') && !k.startsWith('/admin/queues '))).toEqual([]);
    expect((after.get('/admin/queues GET 200') ?? 0) - (before.get('/admin/queues GET 200') ?? 0)).toBeGreaterThanOrEqual(paths.length - 1);
    for (const key of after.keys()) expect(key).not.toMatch(/^\/admin\/queues\/|static|api\/queues/);
  });
});

/** Absolute or protocol-relative URLs: anything that names a host. */
const FOREIGN_URL = /(?:[a-z][a-z0-9+.-]*:)?\/\/[^\s"'<>)]+/gi;

describe('Bull Board page: no other host', () => {
  it('serves the page without a reference to another host, under a Content-Security-Policy of its own origin only', async () => {
    const page = await get('/admin/queues');
    expect(page.status).toBe(200);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    expect(page.text).toContain('<div id="root">');
    expect(page.text.match(FOREIGN_URL) ?? []).toEqual([]);
    const refs = [...page.text.matchAll(/\b(?:href|src)\s*=\s*"([^"]*)"/g)].map((m) => m[1] ?? '');
    expect(refs.length).toBeGreaterThan(3);
    for (const ref of refs) expect(ref).toMatch(/^(?:\/admin\/queues\/|static\/)/);

    const csp = String(page.headers['content-security-policy'] ?? '');
    const directives = new Map(csp.split(';').map((d) => d.trim().split(/\s+/)).map(([name, ...values]) => [name, values]));
    expect(directives.get('default-src')).toEqual(["'self'"]);
    expect(directives.get('script-src')).toEqual(["'self'"]);
    expect(directives.get('connect-src')).toEqual(["'self'"]);
    expect(directives.get('frame-ancestors')).toEqual(["'none'"]);
    for (const [name, values] of directives) for (const v of values ?? []) expect([name, v]).toEqual([name, expect.stringMatching(/^(?:'self'|'none'|'unsafe-inline'|data:)$/)]);
    expect(page.headers['x-content-type-options']).toBe('nosniff');
  });

  it('serves its stylesheet without a reference to another host, and its assets and API under the same policy', async () => {
    const page = await get('/admin/queues');
    const css = /href="(static\/css\/[^"]+\.css)"/.exec(page.text)?.[1];
    expect(css).toBeDefined();
    const sheet = await get(`/admin/queues/${css}`);
    expect(sheet.status).toBe(200);
    expect(sheet.text.match(FOREIGN_URL) ?? []).toEqual([]);
    expect(sheet.text).not.toMatch(/@import/);
    for (const res of [sheet, await get('/admin/queues/api/queues?activeQueue=intake&status=latest&page=1')]) {
      expect(res.status).toBe(200);
      expect(res.headers['content-security-policy']).toMatch(/^default-src 'self';/);
      expect(res.headers['content-security-policy']).toBe(page.headers['content-security-policy']);
    }
  });
});
