// Reading the deliverables under deploy/ (and the compose file) for the tests that hold them to the code: variable
// names against VARIABLES, metric names against what the service exports.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse, parseAllDocuments } from 'yaml';
import { VARIABLES, type Variable } from '../../src/config/variables.js';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const read = (path: string): string => readFileSync(join(ROOT, path), 'utf8');
/** One YAML document; `<<` merge keys resolved (docker-compose.yml uses them). */
export const readYaml = <T = Record<string, unknown>>(path: string): T => parse(read(path), { merge: true }) as T;
/** Every document of every YAML file in a folder, with the file it came from. */
export function readYamlFolder(dir: string): { file: string; doc: Record<string, unknown> }[] {
  return readdirSync(join(ROOT, dir))
    .filter((f) => /\.ya?ml$/.test(f))
    .sort()
    .flatMap((f) => parseAllDocuments(read(join(dir, f))).map((d) => ({ file: f, doc: d.toJS() as Record<string, unknown> })));
}

const byName = new Map<string, Variable>(VARIABLES.map((v) => [v.name, v]));
export const variable = (name: string): Variable | undefined => byName.get(name);
export const defaultOf = (name: string): number => Number(byName.get(name)?.default);

/** Why an environment variable name is wrong: unknown, or a `_FILE` variant of a variable that has none. */
export function variableProblem(name: string): string | undefined {
  if (byName.has(name)) return undefined;
  const base = /^(.+)_FILE$/.exec(name)?.[1];
  if (base === undefined || !byName.has(base)) return `${name}: no such variable in src/config/variables.ts`;
  return byName.get(base)?.file ? undefined : `${name}: ${base} cannot be read from a file (no file: true)`;
}

/** A secret set directly as a value (not through its `_FILE`): it would show in `docker inspect`, `kubectl describe`, `systemctl show`. */
export const isSecret = (name: string): boolean => byName.get(name)?.secret === true;

/** The trapi_ series an expression reads, histogram suffixes stripped where the base is a histogram. */
export function metricNames(expr: string, histograms: ReadonlySet<string>): string[] {
  return [...new Set([...expr.matchAll(/\btrapi_[a-z_]+/g)].map((m) => {
    const base = m[0].replace(/_(bucket|count|sum)$/, '');
    return base !== m[0] && histograms.has(base) ? base : m[0];
  }))];
}

/** Every PromQL expression of the dashboard and of the alert rules. */
export function deliverableExpressions(): { where: string; expr: string }[] {
  const dashboard = JSON.parse(read('deploy/grafana/dashboard.json')) as { panels: { title: string; targets: { expr: string }[] }[]; templating: { list: { name: string; query?: unknown }[] } };
  const rules = readYaml<{ groups: { rules: { alert: string; expr: string }[] }[] }>('deploy/prometheus/alerts.yml');
  return [
    ...dashboard.panels.flatMap((p) => p.targets.map((t) => ({ where: `dashboard panel "${p.title}"`, expr: t.expr }))),
    ...dashboard.templating.list.flatMap((v) => (typeof v.query === 'object' && v.query !== null ? [{ where: `dashboard variable ${v.name}`, expr: String((v.query as { query: unknown }).query) }] : [])),
    ...rules.groups.flatMap((g) => g.rules.map((r) => ({ where: `alert ${r.alert}`, expr: r.expr }))),
  ];
}
