import { Queue } from 'bullmq';
import type { CredentialBreakers } from '../../providers/contract.js';
import request from 'supertest';
import { fingerprint } from '../../src/domain/fingerprint.js';
import { Metrics } from '../../src/metrics/index.js';
import { watchQueues } from '../../src/metrics/queues.js';
import { queueReadings } from '../../src/queue/readings.js';
import { outcomeOf } from '../support/queue.js';
import { API_TOKEN, eventually, item } from '../support/service.js';
import { useStack } from '../support/stack.js';

const PAT = 'gitleaks_rule_id_gitlab_personal_access_token';
const DEPLOY = 'gitleaks_rule_id_gitlab_deploy_token';
const REVOKE = '/v1/revoke_tokens';

/** Every token the run submits: none may appear in /metrics, nor its fingerprint. */
const submitted: string[] = [];

// Admin only, so that a DELETE answered 400 is a terminal failure (no other strategy to fall back on).
const stack = useStack({ env: { STRATEGY_ORDER: 'admin' } });
afterEach(() => {
  stack.gitlab.faults.clear();
  stack.gitlab.setAdminTokenState('valid');
});

/** One sample of the exposition text, matched on its exact label set; undefined when absent. */
function sample(body: string, name: string, labels: Record<string, string> = {}): number | undefined {
  const wanted = Object.entries(labels).sort(([a], [b]) => a.localeCompare(b));
  for (const line of body.split('\n')) {
    if (line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const got = [...(m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)].map((l) => [l[1] ?? '', l[2] ?? ''] as const).sort(([a], [b]) => a.localeCompare(b));
    if (JSON.stringify(got) === JSON.stringify(wanted)) return Number(m[3]);
  }
  return undefined;
}

const scrape = async (url = stack.service.url): Promise<string> => {
  const res = await request(url).get('/metrics');
  expect(res.status).toBe(200);
  expect(res.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
  return res.text;
};

const post = (body: unknown) => request(stack.service.url).post(REVOKE).set('Authorization', API_TOKEN).send(body as object);

function expectNoSecrets(body: string): void {
  for (const token of submitted) {
    expect(body).not.toContain(token);
    expect(body).not.toContain(fingerprint(token).slice(0, 12));
  }
  expect(body).not.toContain(API_TOKEN);
}

describe('GET /metrics after a scripted run', () => {
  let instance: string;

  it('exposes every series with the values the run implies', async () => {
    const pats = [0, 1, 2].map(() => stack.gitlab.createToken('personal_access_token', { userId: 7 }));
    const unknown = 'glpat-NeverIssuedMetrics01';
    const deploy = stack.gitlab.createToken('deploy_token');
    submitted.push(...pats, unknown, deploy);

    expect((await post([...pats, unknown].map((t) => item(t)))).status).toBe(204);
    await eventually(async () => (await Promise.all([...pats, unknown].map((t) => outcomeOf(stack.client, t)))).every(Boolean), 'outcomes of the 3 revoked and the unknown token');
    // Then a deploy token whose DELETE GitLab refuses for good: a terminal failure.
    stack.gitlab.faults.failUntilCleared(400, { method: 'DELETE' });
    expect((await post([item(deploy, DEPLOY)])).status).toBe(204);
    expect((await post([{ type: PAT }])).status).toBe(400); // no token: rejected by validation, nothing received
    const unsupported = 'glpat-UnsupportedTypeMetric01';
    submitted.push(unsupported);
    expect((await post([item(unsupported, 'gitleaks_rule_id_not_a_gitlab_token')])).status).toBe(400);
    await request(stack.service.url).get('/no/such/route').expect(404);

    instance = (await outcomeOf(stack.client, pats[0] ?? ''))?.instance ?? '';
    expect(instance).not.toBe('');
    // A failure names the instance it happened on, as a revocation does (it was "none").
    await eventually(async () => sample(await scrape(), 'trapi_revocation_outcomes_total', { instance, strategy: 'none', outcome: 'failed' }) === 1, 'the failure counted');

    const body = await scrape();
    // Requests by route, method and status (the scrapes above count too; this one is not yet counted when rendered).
    expect(sample(body, 'trapi_http_requests_total', { route: REVOKE, method: 'POST', status: '204' })).toBe(2);
    expect(sample(body, 'trapi_http_requests_total', { route: REVOKE, method: 'POST', status: '400' })).toBe(2);
    expect(sample(body, 'trapi_http_requests_total', { route: 'unmatched', method: 'GET', status: '404' })).toBe(1);
    expect(sample(body, 'trapi_http_requests_total', { route: '/metrics', method: 'GET', status: '200' })).toBeGreaterThanOrEqual(1);
    // Tokens received by type: supported types by name, the rest as "unsupported".
    expect(sample(body, 'trapi_tokens_received_total', { type: PAT })).toBe(4);
    expect(sample(body, 'trapi_tokens_received_total', { type: DEPLOY })).toBe(1);
    expect(sample(body, 'trapi_tokens_received_total', { type: 'unsupported' })).toBe(1);
    // Outcomes by instance, strategy and outcome.
    expect(sample(body, 'trapi_revocation_outcomes_total', { instance, strategy: 'admin', outcome: 'revoked' })).toBe(3);
    expect(sample(body, 'trapi_revocation_outcomes_total', { instance: 'none', strategy: 'all_instances', outcome: 'not_found' })).toBe(1);
    expect(sample(body, 'trapi_revocation_outcomes_total', { instance, strategy: 'none', outcome: 'failed' })).toBe(1);
    // Time to revoke: one observation per revoked token, all well under a minute.
    expect(sample(body, 'trapi_time_to_revoke_seconds_count')).toBe(3);
    expect(sample(body, 'trapi_time_to_revoke_seconds_bucket', { le: '60' })).toBe(3);
    expect(sample(body, 'trapi_time_to_revoke_seconds_bucket', { le: '+Inf' })).toBe(3);
    expect(sample(body, 'trapi_time_to_revoke_seconds_sum')).toBeGreaterThan(0);
    // One provider call per token that reached a provider (no retries in this run).
    expect(sample(body, 'trapi_provider_call_duration_seconds_count', { provider: 'gitlab' })).toBe(5);
    expect(sample(body, 'trapi_provider_call_duration_seconds_sum', { provider: 'gitlab' })).toBeGreaterThan(0);
    // Jobs by state: the failed one stays in the failed set; nothing else is left.
    expect(sample(body, 'trapi_jobs', { queue: 'revocations', state: 'failed' })).toBe(1);
    for (const state of ['waiting', 'active', 'delayed']) expect(sample(body, 'trapi_jobs', { queue: 'revocations', state })).toBe(0);
    expect(sample(body, 'trapi_jobs', { queue: 'intake', state: 'failed' })).toBe(0);
    expect(sample(body, 'trapi_oldest_waiting_job_age_seconds', { queue: 'revocations' })).toBe(0);
    expect(sample(body, 'trapi_oldest_waiting_job_age_seconds', { queue: 'intake' })).toBe(0);
    // Breakers: the configured admin credential, closed.
    expect(sample(body, 'trapi_credential_breaker_open', { breaker: `${instance}:admin` })).toBe(0);
    // Default process metrics, prefixed.
    expect(sample(body, 'trapi_process_cpu_user_seconds_total')).toBeGreaterThan(0);
    expectNoSecrets(body);
  });

  it('shows an open breaker and the held job, then the breaker closed once the credential works', async () => {
    const deploy = stack.gitlab.createToken('deploy_token');
    submitted.push(deploy);
    stack.gitlab.setAdminTokenState('revoked');
    expect((await post([item(deploy, DEPLOY)])).status).toBe(204);
    await eventually(async () => sample(await scrape(), 'trapi_credential_breaker_open', { breaker: `${instance}:admin` }) === 1, 'breaker gauge 1');
    await eventually(async () => sample(await scrape(), 'trapi_jobs', { queue: 'revocations', state: 'delayed' }) === 1, 'the held job counted as delayed');
    // A held token is late: its age counts from acceptance although its job is delayed, not waiting.
    await eventually(async () => (sample(await scrape(), 'trapi_oldest_waiting_job_age_seconds', { queue: 'revocations' }) ?? 0) >= 2, 'the held token ages');
    expectNoSecrets(await scrape());

    stack.gitlab.setAdminTokenState('valid');
    await eventually(() => stack.gitlab.stateOf(deploy) === 'revoked', 'revoked once the credential works');
    await eventually(async () => sample(await scrape(), 'trapi_credential_breaker_open', { breaker: `${instance}:admin` }) === 0, 'breaker gauge back to 0');
    const body = await scrape();
    expect(sample(body, 'trapi_tokens_received_total', { type: DEPLOY })).toBe(2);
    expect(sample(body, 'trapi_revocation_outcomes_total', { instance, strategy: 'admin', outcome: 'revoked' })).toBe(4);
    expect(sample(body, 'trapi_time_to_revoke_seconds_count')).toBe(4);
    expect(sample(body, 'trapi_oldest_waiting_job_age_seconds', { queue: 'revocations' })).toBe(0);
    expectNoSecrets(body);
  });

  it('reports the age of the oldest waiting job, and 0 once none waits', async () => {
    // A queue no worker consumes, so that the jobs stay waiting.
    const metrics = new Metrics({ defaultMetrics: false });
    const conn = stack.redis.client();
    const stop = watchQueues(metrics, queueReadings(conn, ['metrics-probe'], { states: async () => ({}) } as unknown as CredentialBreakers), ['metrics-probe'], []);
    const queue = new Queue('metrics-probe', { connection: conn, prefix: 'trapi' });
    try {
      await queue.add('probe', {}, { timestamp: Date.now() - 90_000 });
      await queue.add('probe', {}, { timestamp: Date.now() - 10_000 });
      let body = (await metrics.scrape()).body;
      expect(sample(body, 'trapi_jobs', { queue: 'metrics-probe', state: 'waiting' })).toBe(2);
      const age = sample(body, 'trapi_oldest_waiting_job_age_seconds', { queue: 'metrics-probe' });
      expect(age).toBeGreaterThanOrEqual(90);
      expect(age).toBeLessThan(120);
      await queue.obliterate({ force: true });
      body = (await metrics.scrape()).body;
      expect(sample(body, 'trapi_oldest_waiting_job_age_seconds', { queue: 'metrics-probe' })).toBe(0);
    } finally {
      await queue.close();
      await stop();
    }
  });
});

describe('ROLE=worker', () => {
  // Its own Redis, the file's simulator.
  const own = useStack({ gitlab: () => stack.gitlab, env: { ROLE: 'worker', METRICS_TOKEN: 'metrics-bearer-token-0123456789' } });

  it('serves /metrics about itself, behind METRICS_TOKEN when set', async () => {
    await request(own.service.url).get('/metrics').expect(401);
    const res = await request(own.service.url).get('/metrics').set('Authorization', 'Bearer metrics-bearer-token-0123456789').expect(200);
    expect(sample(res.text, 'trapi_jobs', { queue: 'revocations', state: 'waiting' })).toBe(0);
    expect(sample(res.text, 'trapi_http_requests_total', { route: '/metrics', method: 'GET', status: '401' })).toBe(1);
    expect(res.text).toContain('# TYPE trapi_time_to_revoke_seconds histogram');
    expect(res.text).toContain('# TYPE trapi_provider_call_duration_seconds histogram');
    expect(res.text).not.toContain('metrics-bearer-token-0123456789');
  });
});
