import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import request from 'supertest';
import { fingerprint } from '../../src/domain/fingerprint.js';
import { outcomeOf } from '../support/queue.js';
import { API_TOKEN, eventually, item } from '../support/service.js';
import { useStack } from '../support/stack.js';

const DEPLOY = 'gitleaks_rule_id_gitlab_deploy_token';
/** Slack webhook URLs carry their secret in the path: it must never reach a log line. */
const HOOK_PATH = '/services/T000/B000/webhook-secret-path-0123456789';

interface Delivery {
  readonly path: string;
  readonly contentType: string | undefined;
  readonly raw: string;
  readonly body: { text: string; blocks: Array<{ type: string; text?: { text: string }; fields?: Array<{ text: string }> }> };
}

/** A real webhook receiver: records every POST, answering with the queued statuses first, then 200. */
class Receiver {
  readonly deliveries: Delivery[] = [];
  readonly statuses: number[] = [];
  #server: Server | undefined;
  url = '';

  async start(): Promise<void> {
    this.#server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const raw = Buffer.concat(chunks).toString('utf8');
        this.deliveries.push({ path: req.url ?? '', contentType: req.headers['content-type'], raw, body: JSON.parse(raw) as Delivery['body'] });
        res.statusCode = this.statuses.shift() ?? 200;
        res.end(res.statusCode === 200 ? 'ok' : 'error');
      });
    });
    await new Promise<void>((resolve) => this.#server?.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}${HOOK_PATH}`;
  }

  about(token: string): Delivery[] {
    return this.deliveries.filter((d) => d.raw.includes(fingerprint(token).slice(0, 12)));
  }

  stop(): Promise<void> {
    return new Promise((resolve) => (this.#server ? this.#server.close(() => resolve()) : resolve()));
  }
}

/** Every mrkdwn text of a message, joined: what a reader of the Slack message sees. */
const shown = (d: Delivery): string => [d.body.text, ...d.body.blocks.flatMap((b) => [b.text?.text ?? '', ...(b.fields ?? []).map((f) => f.text)])].join('\n');

const receiver = new Receiver();
// Hooks run in order: the receiver listens before the stack's service starts, and stops after it.
beforeAll(() => receiver.start());
const stack = useStack({ env: () => ({ STRATEGY_ORDER: 'admin', NOTIFY_WEBHOOK_URL: receiver.url }) });
afterAll(() => receiver.stop());
afterEach(() => {
  stack.gitlab.faults.clear();
  receiver.statuses.length = 0;
});

const submit = async (...items: object[]) => {
  await request(stack.service.url).post('/v1/revoke_tokens').set('Authorization', API_TOKEN).send(items).expect(204);
};

function expectNoSecret(d: Delivery, token: string): void {
  expect(d.raw).not.toContain(token);
  expect(d.raw).not.toContain(fingerprint(token)); // only its 12-character prefix
}

describe('webhook notifications (NOTIFY_WEBHOOK_URL set)', () => {
  it('posts a Slack-compatible message when a token is revoked, with what GitLab identified and never the token', async () => {
    const token = stack.gitlab.createToken('personal_access_token', { userId: 4242, name: 'ci-bot' });
    const unknown = 'glpat-NeverIssuedNotify001';
    await submit(item(token), item(unknown));
    await eventually(() => receiver.about(token).length === 1, 'one notification for the revoked token');
    const d = receiver.about(token)[0] as Delivery;
    expect(d.path).toBe(HOOK_PATH);
    expect(d.contentType).toMatch(/^application\/json/);
    expect(Object.keys(d.body).sort()).toEqual(['blocks', 'text']);
    expect(d.body.text).toMatch(/revoked/i);
    const text = shown(d);
    expect(text).toContain(fingerprint(token).slice(0, 12));
    expect(text).toContain('gitleaks_rule_id_gitlab_personal_access_token');
    expect(text).toContain('https://gitlab.example.com/group/project/-/raw/0123abcd/config.yml#L3');
    expect(text).toContain('4242'); // the identified owner
    expect(text).toContain('ci-bot');
    expect(text).toContain('admin');
    expect(text).toContain((await outcomeOf(stack.client, token))?.instance ?? 'no instance');
    expectNoSecret(d, token);
    // not_found is not in the default NOTIFY_ON (revoked,failed)
    await eventually(async () => (await outcomeOf(stack.client, unknown))?.status === 'not_found', 'unknown token settled');
    await new Promise((r) => setTimeout(r, 300));
    expect(receiver.about(unknown)).toHaveLength(0);
  });

  it('posts a message on a terminal failure, with the reason', async () => {
    const token = stack.gitlab.createToken('deploy_token');
    stack.gitlab.faults.failUntilCleared(400, { method: 'DELETE' });
    await submit(item(token, DEPLOY));
    await eventually(() => receiver.about(token).length === 1, 'one notification for the failed token');
    const d = receiver.about(token)[0] as Delivery;
    expect(d.body.text).toMatch(/could NOT be revoked/);
    const text = shown(d);
    expect(text).toContain(DEPLOY);
    expect(text).toMatch(/permanent|http_400/);
    expect(text).toContain('gitlab.example.com/group/project');
    expectNoSecret(d, token);
  });

  it('retries a receiver that answers 500 until it accepts the message', async () => {
    const token = stack.gitlab.createToken('personal_access_token');
    receiver.statuses.push(500, 500);
    await submit(item(token));
    await eventually(() => receiver.about(token).length === 3, 'delivered on the third attempt');
    await new Promise((r) => setTimeout(r, 500));
    expect(receiver.about(token)).toHaveLength(3); // delivered: no further attempt
    const lines = stack.service.logs.lines.filter((l) => l.includes('webhook notification failed'));
    expect(lines).toHaveLength(2);
    expect(lines[0]).toContain('webhook_http_500');
  });

  it('never logs the webhook URL (it can carry a secret)', () => {
    const logs = stack.service.logs.lines.join('\n');
    expect(logs).not.toContain(HOOK_PATH);
    expect(logs).not.toContain('webhook-secret-path');
    expect(logs).toContain('webhook notifications enabled');
  });
});

describe('NOTIFY_WEBHOOK_URL unset', () => {
  // Its own Redis, the file's simulator.
  const quiet = useStack({ gitlab: () => stack.gitlab });

  it('sends nothing and creates no notification queue', async () => {
    const before = receiver.deliveries.length;
    const token = stack.gitlab.createToken('personal_access_token');
    const own = quiet.redis.client();
    await request(quiet.service.url).post('/v1/revoke_tokens').set('Authorization', API_TOKEN).send([item(token)]).expect(204);
    await eventually(async () => (await outcomeOf(own, token))?.status === 'revoked', 'revoked');
    await new Promise((r) => setTimeout(r, 300));
    expect(receiver.deliveries.length).toBe(before);
    expect(await own.keys('trapi:notifications:*')).toEqual([]);
  });
});
