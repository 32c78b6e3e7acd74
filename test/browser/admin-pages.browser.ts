// The admin pages as an on-call engineer sees them, in a real browser: Playwright (playwright-core, no browser
// download) drives the system's Chromium. It answers the HTTP Basic prompt, sees both queues, opens the failed jobs,
// reads a failed job's reason and its data (the ciphertext reads [encrypted]), finds no token in the page's text or
// HTML, and records every request the page makes: none may leave the service's origin.
// Under CI a missing Chromium fails; without CI the test is skipped, saying so.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Queue } from 'bullmq';
import { chromium, type Browser, type Page } from 'playwright-core';
import request from 'supertest';
import { startGitLabSimulator, type GitLabSimulator } from '../../simulator/index.js';
import { fingerprint } from '../../src/domain/fingerprint.js';
import { findChromium, HEADLESS_FLAGS } from '../support/chromium.js';
import { failedReasonOf, inspectQueue } from '../support/queue.js';
import { startTestRedis, type TestRedis } from '../support/redis.js';
import { API_TOKEN, ENCRYPTION_KEY, eventually, item, startTestService, type TestService } from '../support/service.js';

const CHROMIUM = findChromium() ?? process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';
const inCi = process.env['CI'] !== undefined && process.env['CI'] !== '' && process.env['CI'] !== 'false';
const ADMIN = `browser-oncall-secret-${randomBytes(12).toString('hex')}`;
const SHOTS = fileURLToPath(new URL('../../test-results/browser/', import.meta.url));
const ARGS = [...HEADLESS_FLAGS];

describe('the admin pages in Chromium (Playwright)', () => {
  if (!existsSync(CHROMIUM)) {
    if (inCi) {
      it('finds Chromium', () => {
        throw new Error(`CI is set but ${CHROMIUM} does not exist: CI must install chromium (.ci/run does)`);
      });
    } else {
      console.warn(`admin-pages.browser: SKIPPED, no Chromium at ${CHROMIUM} (or CHROMIUM_PATH) and CI is unset; apt-get install -y chromium`);
      it.skip(`opens /admin/queues (SKIPPED: no Chromium at ${CHROMIUM}, CI unset)`, () => undefined);
    }
    return;
  }

  let redis: TestRedis;
  let queue: Queue;
  let sim: GitLabSimulator;
  let svc: TestService;
  let browser: Browser | undefined;
  let token: string;
  let sealed: string;

  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    redis = await startTestRedis();
    queue = inspectQueue(redis.url);
    sim = await startGitLabSimulator();
    svc = await startTestService(redis.url, sim.url, sim.adminToken, { STRATEGY_ORDER: 'admin', ADMIN_API_TOKENS: `oncall:${ADMIN}` });
    // A token GitLab refuses to revoke: it lands in the failed set, ciphertext and all.
    sim.faults.failUntilCleared(400, { method: 'DELETE', body: { message: { error: 'Cannot revoke' } } });
    token = sim.createToken('personal_access_token');
    await request(svc.url).post('/v1/revoke_tokens').set('Authorization', API_TOKEN).send([item(token)]).expect(204);
    await eventually(async () => (await failedReasonOf(queue, token)) !== undefined, 'the token in the failed set');
    sealed = String((await queue.getJob(fingerprint(token)))?.data.sealed);
    expect(sealed.length).toBeGreaterThan(20);
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    sim?.faults.clear();
    await svc?.stop();
    await queue?.close();
    await sim?.stop();
    await redis?.stop();
  });

  it('on-call answers the Basic prompt, sees both queues and a failed job with its reason, [encrypted] for the ciphertext, no token, no request off the origin', async () => {
    const started = Date.now();
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ARGS });
    const origin = new URL(svc.url).origin;

    // First, no credentials: the browser gets the challenge a person would be prompted with.
    // (Playwright, with no credentials to give, cancels the prompt: the navigation fails after the 401.)
    const anonymous = await browser.newContext();
    const challenged: Array<{ status: number; challenge: string | undefined }> = [];
    anonymous.on('response', (r) => challenged.push({ status: r.status(), challenge: r.headers()['www-authenticate'] }));
    const refused = await (await anonymous.newPage()).goto(`${svc.url}/admin/queues`).then(
      () => 'loaded',
      (e: Error) => e.message,
    );
    expect(refused).toMatch(/ERR_INVALID_AUTH_CREDENTIALS/);
    expect(challenged).toEqual([{ status: 401, challenge: expect.stringMatching(/^Basic realm="trapi admin"/) }]);
    await anonymous.close();

    // Then as on-call: the context answers the Basic prompt (httpCredentials), as a person typing it would.
    const context = await browser.newContext({ httpCredentials: { username: 'oncall', password: ADMIN }, viewport: { width: 1400, height: 900 } });
    const requests: string[] = [];
    const failedLoads: string[] = [];
    const answers: string[] = [];
    context.on('request', (r) => requests.push(r.url()));
    context.on('requestfailed', (r) => failedLoads.push(`${r.url()} ${r.failure()?.errorText ?? ''}`));
    context.on('response', (r) => answers.push(`${r.status()} ${new URL(r.url()).pathname}`));
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));

    const first = await page.goto(`${svc.url}/admin/queues`);
    expect(first?.status()).toBe(200);
    const sidebar = page.locator('#bull-board-sidebar');
    await sidebar.getByRole('link', { name: 'revocations' }).waitFor();
    await sidebar.getByRole('link', { name: 'intake' }).waitFor();
    await shot(page, '1-queues');

    // Into the revocations queue, then its failed jobs, by clicking as a person would.
    await sidebar.getByRole('link', { name: 'revocations' }).click();
    await page.getByRole('link', { name: /FAILED/ }).click();
    await page.waitForURL(/\/admin\/queues\/queue\/revocations\?status=failed$/);
    const fp = fingerprint(token);
    await page.getByText(fp).waitFor();
    // A failed job opens on its Error tab: the reason, as the failed set records it.
    await page.getByText(/http_400: 400 \{"error":"Cannot revoke"\} \[http_400\]/).waitFor();
    await shot(page, '2-failed-job-error');
    await page.getByRole('tab', { name: 'Data' }).click();
    await page.getByText('[encrypted]').waitFor();
    await shot(page, '3-failed-job-data');

    const text = await page.innerText('body');
    const html = await page.content();
    expect(text).toContain(fp);
    expect(text).toContain('[encrypted]');
    for (const secret of [token, sealed, ADMIN, API_TOKEN, ENCRYPTION_KEY]) {
      expect(text.includes(secret)).toBe(false);
      expect(html.includes(secret)).toBe(false);
    }

    await page.waitForLoadState('networkidle');
    const foreign = requests.filter((u) => !u.startsWith(`${origin}/`) && !u.startsWith('data:'));
    console.info(`admin pages: ${requests.length} requests in ${Date.now() - started} ms, all to ${origin}: ${[...new Set(answers)].join(', ')}`);
    expect(foreign).toEqual([]);
    expect(requests.length).toBeGreaterThan(3);
    expect(requests.every((u) => u.startsWith(`${origin}/admin/queues`) || u.startsWith('data:'))).toBe(true);
    expect(failedLoads).toEqual([]);
    expect(answers.filter((a) => !/^(?:200|304) /.test(a))).toEqual([]);
    expect(errors).toEqual([]);
    await context.close();
  });
});

async function shot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
}
