// The monitoring deliverables hold to the code and the runbook: promtool accepts the alert rules and their unit tests
// pass; every alert of the runbook has its rule, linking to a section that exists; and every series the dashboard and
// the rules read is one a real service exports after a short run. promtool missing: skipped, saying so, outside CI;
// under CI it fails.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import request from 'supertest';
import { deliverableExpressions, metricNames, read, readYaml, ROOT } from '../support/deploy-files.js';
import { outcomeOf } from '../support/queue.js';
import { API_TOKEN, eventually, item } from '../support/service.js';
import { useStack } from '../support/stack.js';

const inCi = process.env['CI'] !== undefined && process.env['CI'] !== '' && process.env['CI'] !== 'false';
const promtool = spawnSync('promtool', ['--version'], { encoding: 'utf8' }).status === 0;
const pkg = JSON.parse(read('package.json')) as { version: string };

type Rule = { alert: string; expr: string; for?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
const rules: Rule[] = readYaml<{ groups: { rules: Rule[] }[] }>('deploy/prometheus/alerts.yml').groups.flatMap((g) => g.rules);

/** The rows of the runbook's "Alerts to set" table: name (anchor tags removed) and the expression cell. */
function runbookAlerts(): { name: string; expr: string }[] {
  const text = read('docs/runbook.md');
  const section = text.slice(text.indexOf('## Alerts to set'), text.indexOf('\n## ', text.indexOf('## Alerts to set') + 1));
  return section
    .split('\n')
    .filter((l) => l.startsWith('| ') && !l.startsWith('| alert |'))
    .map((l) => l.split(' | '))
    .map(([name, expr]) => ({ name: (name ?? '').replace(/^\| /, '').replace(/<a id="[^"]*"><\/a>/g, '').trim(), expr: expr ?? '' }));
}

/** The rule a runbook row is implemented by: Trapi + the row's words in PascalCase ("API errors" -> TrapiAPIErrors). */
const ruleName = (row: string): string => `Trapi${row.split(/[^A-Za-z0-9]+/).map((w) => (w[0] ?? '').toUpperCase() + w.slice(1)).join('')}`;

/** Anchors the runbook offers: its headings, as GitHub slugs them, and explicit <a id="...">. */
function runbookAnchors(): Set<string> {
  const text = read('docs/runbook.md');
  const headings = [...text.matchAll(/^#{1,6} (.+)$/gm)].map((m) => (m[1] ?? '').toLowerCase().replace(/[^\p{L}\p{N}\s_-]/gu, '').trim().replace(/\s/g, '-'));
  return new Set([...headings, ...[...text.matchAll(/<a id="([^"]+)"><\/a>/g)].map((m) => m[1] ?? '')]);
}

function run(args: readonly string[]): { status: number | null; output: string } {
  const r = spawnSync('promtool', args, { cwd: join(ROOT, 'deploy/prometheus'), encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, output: `${r.stdout}${r.stderr}` };
}

describe('deploy/prometheus with promtool', () => {
  if (!promtool && !inCi) {
    console.warn('deploy: promtool SKIPPED, not on PATH and CI is unset; install it with apt-get install -y prometheus');
    it.skip('promtool check rules / test rules (SKIPPED: no promtool on PATH, and CI is unset; apt-get install -y prometheus)', () => undefined);
    return;
  }

  it('promtool check rules accepts alerts.yml', () => {
    if (!promtool) throw new Error('CI is set but promtool is not on PATH: CI must install it (apt-get install -y prometheus)');
    const r = run(['check', 'rules', 'alerts.yml']);
    expect(r.output).toContain(`SUCCESS: ${rules.length} rules found`);
    expect(r.status).toBe(0);
  });

  it('promtool test rules: each alert fires on series that should trigger it and stays silent on the others', () => {
    if (!promtool) throw new Error('CI is set but promtool is not on PATH: CI must install it (apt-get install -y prometheus)');
    const r = run(['test', 'rules', 'alerts.test.yml']);
    expect(r.output).toMatch(/SUCCESS/);
    expect(r.status).toBe(0);
  });
});

describe('deploy/prometheus/alerts.yml', () => {
  it('has a rule for every alert of the runbook, reading the series the runbook names', () => {
    const rows = runbookAlerts();
    expect(rows.length).toBeGreaterThanOrEqual(13);
    const byName = new Map(rules.map((r) => [r.alert, r]));
    expect(rows.map((r) => ruleName(r.name)).filter((n) => !byName.has(n))).toEqual([]);
    for (const row of rows) {
      const rule = byName.get(ruleName(row.name)) as Rule;
      for (const metric of row.expr.match(/trapi_[a-z_]+/g) ?? []) expect([rule.alert, rule.expr]).toEqual([rule.alert, expect.stringContaining(metric)]);
    }
  });

  it('every rule has a summary, a description and a runbook_url into a section of docs/runbook.md', () => {
    const anchors = runbookAnchors();
    const tests = read('deploy/prometheus/alerts.test.yml');
    for (const rule of rules) {
      expect(rule.annotations).toMatchObject({ summary: expect.any(String), description: expect.any(String), runbook_url: expect.stringMatching(/^https:\/\/.+\/docs\/runbook\.md#/) });
      expect([rule.alert, anchors.has(rule.annotations?.['runbook_url']?.split('#')[1] ?? '')]).toEqual([rule.alert, true]);
      expect(rule.labels?.['severity']).toMatch(/^(page|ticket)$/);
      // Tested both ways by promtool: some case expects it to fire, some expects silence.
      expect(tests).toContain(`alertname: ${rule.alert}\n        exp_alerts: []`);
      expect(tests).toMatch(new RegExp(`alertname: ${rule.alert}\\n        exp_alerts:\\n          - exp_labels`));
    }
  });
});

describe('the series of the dashboard and the alert rules', () => {
  const stack = useStack({ env: { STRATEGY_ORDER: 'admin' } });
  /** From the exposition's # TYPE lines: every series the service exports, and its type. */
  const exported = new Map<string, string>();
  let body = '';

  beforeAll(async () => {
    const tokens = [0, 1, 2].map(() => stack.gitlab.createToken('personal_access_token', { userId: 7 }));
    await request(stack.service.url).post('/v1/revoke_tokens').set('Authorization', API_TOKEN).send(tokens.map((t) => item(t))).expect(204);
    await eventually(async () => (await Promise.all(tokens.map((t) => outcomeOf(stack.client, t)))).every(Boolean), 'the 3 tokens settled');
    body = (await request(stack.service.url).get('/metrics').expect(200)).text;
    for (const m of body.matchAll(/^# TYPE (\S+) (\S+)$/gm)) exported.set(m[1] ?? '', m[2] ?? '');
  });

  it('are all exported by the service', () => {
    const histograms = new Set([...exported].filter(([, type]) => type === 'histogram').map(([name]) => name));
    const expressions = deliverableExpressions();
    expect(expressions.length).toBeGreaterThan(30);
    const unknown = expressions.flatMap(({ where, expr }) => metricNames(expr, histograms).filter((n) => !exported.has(n)).map((n) => `${where}: ${n}`));
    expect(unknown).toEqual([]);
    // What the run produced is there with samples, not only declared.
    for (const name of ['trapi_tokens_received_total', 'trapi_revocation_outcomes_total', 'trapi_time_to_revoke_seconds_bucket', 'trapi_provider_call_duration_seconds_bucket', 'trapi_jobs', 'trapi_http_requests_total']) {
      expect(body).toMatch(new RegExp(`^${name}\\{`, 'm'));
    }
  });

  it('include trapi_build_info{version,node} 1: the package.json version and the running Node.js', () => {
    expect(exported.get('trapi_build_info')).toBe('gauge');
    expect(body).toContain(`\ntrapi_build_info{version="${pkg.version}",node="${process.versions.node}"} 1\n`);
  });
});
