// Several providers behind one API: GitLab, GitHub, Slack and report-only types in one service, against real Redis and the
// vendors' simulators. Each token goes to its own provider; what no API can revoke becomes on-call work.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import request from 'supertest';
import { fingerprint } from '../../src/domain/fingerprint.js';
import { failedReasonOf, outcomeOf } from '../support/queue.js';
import { API_TOKEN, eventually, item } from '../support/service.js';
import { useStack } from '../support/stack.js';

const SLACK = 'gitleaks_rule_id_slack_token';
const AWS = 'gitleaks_rule_id_aws';
const WEBHOOK = 'gitleaks_rule_id_slack_webhook';
const ADMIN = 'oncall:admin-token-0123456789abcdef';

const deliveries: string[] = [];
/** The on-call webhook: records each delivery. */
const hook: Server = createServer((req, res) => {
  let body = '';
  req.on('data', (c: Buffer) => (body += c.toString('utf8')));
  req.on('end', () => {
    deliveries.push(body);
    res.end('ok');
  });
});
// Hooks run in order: the webhook listens before the stack's service starts, and closes after it stops.
beforeAll(() => new Promise<void>((r) => hook.listen(0, '127.0.0.1', r)));
const stack = useStack({
  github: true,
  slack: { perMinute: 1000 },
  env: () => ({
    PROVIDERS: 'gitlab,github,slack',
    GITHUB_BATCH_WAIT_MS: '100',
    GITHUB_CONFIRM_AFTER_SECONDS: '0.2',
    SLACK_RATE_LIMIT_PER_SECOND: '200',
    REPORT_ONLY_TYPES: `${AWS}, ${WEBHOOK}`,
    ADMIN_API_TOKENS: ADMIN,
    NOTIFY_WEBHOOK_URL: `http://127.0.0.1:${(hook.address() as AddressInfo).port}/hook`,
  }),
});
afterAll(() => new Promise((r) => hook.close(r)));

const submit = async (items: object[]) => {
  const res = await request(stack.service.url).post('/v1/revoke_tokens').set('Authorization', API_TOKEN).send(items);
  expect(res.status).toBe(204);
};
const admin = (path: string) => request(stack.service.url).get(path).set('Authorization', `Bearer ${ADMIN.split(':')[1] ?? ''}`);

describe('several providers', () => {
  it('when GET /v1/revocable_token_types is asked, then it lists the union of every provider and the report-only types', async () => {
    const res = await request(stack.service.url).get('/v1/revocable_token_types').set('Authorization', API_TOKEN);
    expect(res.status).toBe(200);
    const types = (res.body as { types: string[] }).types;
    expect(types).toEqual(expect.arrayContaining(['gitleaks_rule_id_gitlab_personal_access_token_routable', SLACK, 'gitlab_secret_scanner_rule_id_slack_token', AWS, WEBHOOK]));
    expect(types).toEqual([...types].sort());
  });

  it('when one request mixes GitLab, GitHub and Slack tokens, then each is revoked at its own provider', async () => {
    const pat = stack.gitlab.createToken('personal_access_token');
    const ghp = stack.github.createToken('ghp_');
    const bot = stack.slack.createToken('bot');
    const user = stack.slack.createToken('user');
    await submit([item(pat, 'gitleaks_rule_id_gitlab_personal_access_token_routable'), item(ghp, 'gitleaks_rule_id_github_personal_access_token'), item(bot, SLACK), item(user, 'gitlab_secret_scanner_rule_id_slack_token')]);
    await eventually(async () => (await Promise.all([pat, ghp, bot, user].map((t) => outcomeOf(stack.client, t)))).every((o) => o !== undefined), 'all four settled');
    expect(stack.gitlab.stateOf(pat)).toBe('revoked');
    expect(stack.github.isAlive(ghp)).toBe(false);
    expect([stack.slack.isAlive(bot), stack.slack.isAlive(user)]).toEqual([false, false]);
    expect(await outcomeOf(stack.client, bot)).toMatchObject({ status: 'revoked', via: 'auth_revoke', instance: 'slack', confirmed: true });
    expect(await outcomeOf(stack.client, ghp)).toMatchObject({ status: 'revoked', via: 'credentials_revoke', instance: 'github', confirmed: true });
    expect(await outcomeOf(stack.client, pat)).toMatchObject({ status: 'revoked', via: 'admin' });
    // One call per Slack token; no vendor saw another vendor's token.
    expect(stack.slack.revokeCalls().filter((c) => c.token === bot || c.token === user)).toHaveLength(2);
    expect(stack.gitlab.calls().filter((c) => c.token === bot || c.token === user || c.token === ghp)).toEqual([]);
    expect(stack.slack.calls().filter((c) => c.token === ghp || c.token === pat)).toEqual([]);
    expect(stack.github.revokeCalls().flatMap((c) => c.credentials)).toEqual([ghp]);
  });

  it('when Slack tokens are already dead, then each is already_gone after one call', async () => {
    const dead = [stack.slack.createToken('bot'), stack.slack.createToken('user')];
    for (const t of dead) stack.slack.seed(t, false);
    await submit(dead.map((t) => item(t, SLACK)));
    for (const t of dead) await eventually(async () => (await outcomeOf(stack.client, t))?.status === 'already_gone', 'already gone');
    for (const t of dead) expect(stack.slack.revokeCalls().filter((c) => c.token === t)).toHaveLength(1);
  });

  it('when Slack answers a 429 storm, then it is waited out and every token ends revoked', async () => {
    const tokens = [stack.slack.createToken('bot'), stack.slack.createToken('bot'), stack.slack.createToken('user')];
    stack.slack.faults.rateLimitNext(4, 1);
    await submit(tokens.map((t) => item(t, SLACK)));
    await eventually(async () => (await Promise.all(tokens.map((t) => outcomeOf(stack.client, t)))).every((o) => o !== undefined), 'settled after the storm', 20_000);
    expect(tokens.map((t) => stack.slack.isAlive(t))).toEqual([false, false, false]);
    for (const t of tokens) expect((await outcomeOf(stack.client, t))?.status).toBe('revoked');
    for (const t of tokens) expect(await failedReasonOf(stack.queue, t)).toBeUndefined();
  });

  it('when a report-only type arrives, then nothing is sent anywhere and it becomes on-call work until resolved', async () => {
    const key = `AKIA${'Z'.repeat(16)}`;
    const gitlabCalls = stack.gitlab.calls().length;
    const slackCalls = stack.slack.calls().length;
    const githubCalls = stack.github.calls().length;
    await submit([item(key, AWS, { location: 'https://gitlab.example.com/g/p/-/blob/main/.env#L2' })]);
    await eventually(async () => (await failedReasonOf(stack.queue, key)) !== undefined, 'in the failed set as on-call work');
    expect(await failedReasonOf(stack.queue, key)).toMatch(/^report_only: no API can revoke this type/);
    expect(stack.gitlab.calls().length).toBe(gitlabCalls);
    expect(stack.slack.calls().length).toBe(slackCalls);
    expect(stack.github.calls().length).toBe(githubCalls);
    const fp = fingerprint(key);
    expect(await stack.client.hget(`trapi:record:${fp}`, 'state')).toBe('needs_manual');
    const status = await admin('/admin/status');
    expect(status.body).toMatchObject({ needsManual: 1 });
    const failed = await admin('/admin/failed?reason=report_only');
    expect(failed.body.failed).toEqual([expect.objectContaining({ fingerprint: fp, type: AWS, instance: 'report_only' })]);
    await eventually(() => deliveries.some((d) => d.includes(fp.slice(0, 12)) && d.includes('manual revocation')), 'the on-call notification');
    expect(deliveries.some((d) => d.includes(key))).toBe(false);
    const metrics = await request(stack.service.url).get('/metrics');
    expect(metrics.text).toContain('outcome="needs_manual"} 1');
    const resolved = await request(stack.service.url).post(`/admin/tokens/${fp}/resolve`).set('Authorization', `Bearer ${ADMIN.split(':')[1] ?? ''}`).send({ reason: 'key deactivated in AWS IAM, SEC-42' });
    expect(resolved.status).toBe(200);
    expect((await admin('/admin/status')).body).toMatchObject({ needsManual: 0 });
  });
});
