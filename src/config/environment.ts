// Reading the environment: each variable (or its *_FILE), validated against VARIABLES with its default applied.
import { readFileSync } from 'node:fs';
import { Ajv } from 'ajv';
import { expectedFromSchema, urlProblem } from './messages.js';
import { VARIABLES } from './variables.js';

/** The environment as read and validated: one value per variable, coerced to its schema's type. */
export type Raw = Record<string, string | number | boolean | undefined>;

export function readRaw(env: NodeJS.ProcessEnv, problems: string[]): Raw {
  const raw: Raw = {};
  for (const v of VARIABLES) {
    const direct = env[v.name];
    const file = v.file ? env[`${v.name}_FILE`] : undefined;
    if (direct !== undefined && direct !== '' && file) {
      problems.push(`${v.name} and ${v.name}_FILE are both set; set only one`);
    } else if (file) {
      try {
        raw[v.name] = readFileSync(file, 'utf8').trim();
      } catch (err) {
        problems.push(`${v.name}_FILE: cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
      }
    } else if (direct !== undefined && direct !== '') {
      raw[v.name] = direct.trim();
    }
  }
  return raw;
}

const ajv = new Ajv({ allErrors: true, coerceTypes: true, useDefaults: true, strict: true });
const validateRaw = ajv.compile({
  type: 'object',
  properties: Object.fromEntries(
    VARIABLES.map((v) => [v.name, v.default === undefined ? v.schema : { ...v.schema, default: v.default }]),
  ),
});

export function validate(raw: Raw, problems: string[]): void {
  const wrong = new Set<string>();
  if (!validateRaw(raw)) {
    for (const e of validateRaw.errors ?? []) {
      const name = e.instancePath.slice(1);
      if (wrong.has(name)) continue; // one line per variable, however many keywords it breaks
      wrong.add(name);
      const v = VARIABLES.find((x) => x.name === name);
      const expected = v ? (v.expected ?? expectedFromSchema(v.schema)) : undefined;
      // A secret's value never appears in the message, only what is expected of it.
      const got = v?.secret ? '' : ` (got ${JSON.stringify(raw[name])})`;
      problems.push(expected ? `${name}: expected ${expected}${got}` : `${name} ${e.message ?? 'is invalid'}${got}`);
    }
  }
  for (const v of VARIABLES) {
    const value = raw[v.name];
    if (v.url === undefined || value === undefined || wrong.has(v.name)) continue;
    const problem = urlProblem(v.name, String(value), v.url);
    if (problem) problems.push(problem);
  }
}
