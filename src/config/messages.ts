// Configuration problems in words: what is expected, the allowed values, the unknown key. Never a secret's value,
// never a regular expression (an operator at 3 a.m. should not have to read one).
import type { ErrorObject } from 'ajv';

type Schema = Readonly<Record<string, unknown>>;

const num = (v: unknown): number | undefined => (typeof v === 'number' ? v : undefined);

/** What a schema accepts, derived from its keywords; undefined when it says nothing an operator could act on. */
export function expectedFromSchema(schema: Schema): string | undefined {
  if (Array.isArray(schema['enum'])) return `one of: ${(schema['enum'] as unknown[]).map(String).join(', ')}`;
  switch (schema['type']) {
    case 'boolean':
      return 'true or false';
    case 'integer':
      return `a whole number${range(schema)}`;
    case 'number':
      return `a number${range(schema)}`;
    case 'string': {
      const min = num(schema['minLength']);
      return min !== undefined && min > 1 ? `at least ${min} characters` : undefined;
    }
    default:
      return undefined;
  }
}

function range(schema: Schema): string {
  const low = num(schema['minimum']);
  const above = num(schema['exclusiveMinimum']);
  const high = num(schema['maximum']);
  const from = low !== undefined ? `from ${low}` : above !== undefined ? `greater than ${above}` : undefined;
  if (from && high !== undefined) return low !== undefined ? ` ${from} to ${high}` : ` ${from} and at most ${high}`;
  if (from) return ` ${from}`;
  return high !== undefined ? ` at most ${high}` : '';
}

/** A password carrying one of these breaks the URL; the fix is to percent-encode it. */
export const URL_PASSWORD_HINT = 'a password (or user name) must be percent-encoded: / as %2F, @ as %40, : as %3A, # as %23, % as %25';

/**
 * Parses a URL the way the service will use it later (new URL(), as ioredis and the provider clients do), so that a value that passes
 * the pattern but not the parser stops the start-up, not the first connection. The value itself is never quoted.
 */
export function urlProblem(name: string, value: string, protocols: readonly string[]): string | undefined {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return `${name} is not a valid URL (is the port a number?); ${URL_PASSWORD_HINT}`;
  }
  if (!protocols.includes(url.protocol)) return `${name} must start with ${protocols.map((p) => `${p}//`).join(' or ')}`;
  if (url.hostname === '') return `${name} has no host; ${URL_PASSWORD_HINT}`;
  return undefined;
}

/** Words for the pattern-checked fields of the instances file, by property name. */
const FILE_PATTERNS: Readonly<Record<string, string>> = {
  url: 'an http:// or https:// URL of the instance, e.g. https://gitlab.example.com',
  name: '1 to 63 lower-case letters, digits, ".", "_" or "-", starting with a letter or digit',
  adminTokenRotation: 'off, personal, project:<id> or group:<id>',
  tokenRotation: 'off, personal, project:<id> or group:<id>',
};

/**
 * One Ajv error of the instances file, with what Ajv leaves out: the unknown key, the allowed values, the expected
 * form (instead of the pattern). Ajv's own wording is kept in front, so the message still names the rule broken.
 */
export function describeFileError(e: ErrorObject): string {
  const where = e.instancePath || '/';
  const params = e.params as Record<string, unknown>;
  switch (e.keyword) {
    case 'additionalProperties':
      return `${where} must NOT have additional properties: unknown key ${JSON.stringify(params['additionalProperty'])}${known(e)}`;
    case 'enum':
      return `${where} must be equal to one of the allowed values: ${(params['allowedValues'] as unknown[]).map(String).join(', ')}`;
    case 'pattern': {
      const field = where.split('/').at(-1) ?? '';
      return `${where} must match pattern: expected ${FILE_PATTERNS[field] ?? 'another form (see schemas/instances.schema.json)'}`;
    }
    default:
      return `${where} ${e.message ?? 'is invalid'}`;
  }
}

/** The keys the schema allows where an unknown one was found, so that a typo is easy to spot. */
function known(e: ErrorObject): string {
  const properties = (e.parentSchema as Schema | undefined)?.['properties'];
  return properties && typeof properties === 'object' ? ` (known keys: ${Object.keys(properties).join(', ')})` : '';
}
