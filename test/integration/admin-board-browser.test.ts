// Bull Board in a real browser (headless Chromium): the page renders the queues, and no request leaves 127.0.0.1.
// Skipped, saying so, only outside CI when Chromium is absent; under CI a missing Chromium fails.
import { randomBytes } from 'node:crypto';
import { findChromium, launchChromium, type Browser, type CdpEvent } from '../support/chromium.js';
import { useStack } from '../support/stack.js';

const ADMIN = `browser-admin-secret-${randomBytes(12).toString('hex')}`;
const chromium = findChromium();
const inCi = process.env['CI'] !== undefined && process.env['CI'] !== '' && process.env['CI'] !== 'false';

/** Records what the page does: each CSP violation (none is expected), each uncaught error. */
const WATCH = `window.__violations = [];
document.addEventListener('securitypolicyviolation', (e) => window.__violations.push(e.violatedDirective + ' ' + e.blockedURI));`;

describe('Bull Board in headless Chromium', () => {
  if (chromium === undefined && !inCi) {
    console.warn('admin-board-browser: SKIPPED, no Chromium found (/usr/bin/chromium, or CHROMIUM_PATH) and CI is unset; install it with apt-get install -y chromium');
    it.skip('loads /admin/queues (SKIPPED: no Chromium found at /usr/bin/chromium or CHROMIUM_PATH, and CI is unset; apt-get install -y chromium)', () => undefined);
    return;
  }

  let browser: Browser | undefined;

  // Registered before the stack's: jest runs afterAll hooks in order, so the browser closes before the service stops.
  afterAll(async () => {
    await browser?.close();
  });
  const stack = useStack({ env: { ROLE: 'api', ADMIN_API_TOKENS: `oncall:${ADMIN}` } });

  it('renders /admin/queues with its queues, every request to 127.0.0.1 and answered, no CSP violation', async () => {
    if (chromium === undefined) throw new Error('CI is set but no Chromium was found (/usr/bin/chromium, or CHROMIUM_PATH): CI must install it');
    browser = await launchChromium(chromium);
    const { targetId } = (await browser.send('Target.createTarget', { url: 'about:blank' })) as { targetId: string };
    const { sessionId } = (await browser.send('Target.attachToTarget', { targetId, flatten: true })) as { sessionId: string };
    const page = (method: string, params: Record<string, unknown> = {}) => (browser as Browser).send(method, params, sessionId);
    await page('Network.enable');
    await page('Network.setExtraHTTPHeaders', { headers: { Authorization: `Basic ${Buffer.from(`oncall:${ADMIN}`).toString('base64')}` } });
    await page('Page.enable');
    await page('Runtime.enable');
    await page('Page.addScriptToEvaluateOnNewDocument', { source: WATCH });

    const started = Date.now();
    const url = `${stack.service.url}/admin/queues`;
    await page('Page.navigate', { url });
    const text = await until(async () => {
      const r = (await page('Runtime.evaluate', { expression: 'document.body ? document.body.innerText : ""', returnByValue: true })) as { result: { value?: string } };
      const t = r.result.value ?? '';
      return /revocations/.test(t) && /intake/.test(t) ? t : undefined;
    }, 20_000, 'the board to list the revocations and intake queues');
    const renderedMs = Date.now() - started;
    await quiet(browser.events, 750);

    const mine = browser.events.filter((e) => e.sessionId === sessionId);
    const requests = mine.filter((e) => e.method === 'Network.requestWillBeSent').map((e) => (e.params['request'] as { url: string }).url);
    const foreign = requests.filter((u) => !isLocal(u));
    const failed = mine.filter((e) => e.method === 'Network.loadingFailed').map((e) => e.params);
    const statuses = mine.filter((e) => e.method === 'Network.responseReceived').map((e) => {
      const r = e.params['response'] as { url: string; status: number };
      return `${r.status} ${new URL(r.url).pathname}`;
    });
    const violations = (await page('Runtime.evaluate', { expression: 'window.__violations', returnByValue: true })) as { result: { value?: string[] } };
    const exceptions = mine.filter((e) => e.method === 'Runtime.exceptionThrown').map((e) => JSON.stringify(e.params).slice(0, 300));
    console.info(`board rendered in ${renderedMs} ms with ${requests.length} requests: ${statuses.join(', ')}`);

    expect(foreign).toEqual([]);
    expect(requests.length).toBeGreaterThan(3);
    expect(requests.every((u) => u.startsWith(`${stack.service.url}/admin/queues`) || u.startsWith('data:'))).toBe(true);
    expect(failed).toEqual([]);
    expect(statuses.filter((s) => !/^(?:200|304) /.test(s))).toEqual([]);
    expect(violations.result.value ?? []).toEqual([]);
    expect(exceptions).toEqual([]);
    expect(text).not.toContain(ADMIN);
  }, 60_000);
});

function isLocal(url: string): boolean {
  const u = new URL(url);
  if (u.protocol === 'data:' || u.protocol === 'blob:' || u.protocol === 'about:') return true;
  return u.hostname === '127.0.0.1';
}

async function until<T>(probe: () => Promise<T | undefined>, timeoutMs: number, what: string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Waits until no Network event has arrived for `ms` (the page has stopped loading things). */
async function quiet(events: readonly CdpEvent[], ms: number): Promise<void> {
  let seen = events.length;
  for (;;) {
    await new Promise((r) => setTimeout(r, ms));
    if (events.length === seen) return;
    seen = events.length;
  }
}
