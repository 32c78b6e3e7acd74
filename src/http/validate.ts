// Validates POST /v1/revoke_tokens bodies against schemas/, with the configured bounds, reporting each bad item.
import { readFileSync } from 'node:fs';
import { Ajv, type ErrorObject } from 'ajv';
import type { SubmittedItem } from '../domain/revocation.js';
import { InvalidRequestError, type ErrorDetail } from '../errors.js';
import { schemaPath } from '../paths.js';

export interface RequestLimits {
  readonly maxTokensPerRequest: number;
  readonly maxTokenLength: number;
  readonly maxLocationLength: number;
}

/** At most this many details in a 400: enough to fix a batch, not enough to make the answer a burden. */
const MAX_DETAILS = 100;

export function revokeRequestValidator(limits: RequestLimits): (body: unknown) => readonly SubmittedItem[] {
  const schema = JSON.parse(readFileSync(schemaPath('revoke-tokens-request.schema.json'), 'utf8')) as {
    maxItems: number;
    items: { properties: Record<string, { maxLength: number }> };
  };
  schema.maxItems = limits.maxTokensPerRequest;
  const props = schema.items.properties;
  for (const [name, max] of [['token', limits.maxTokenLength], ['location', limits.maxLocationLength], ['url', limits.maxLocationLength]] as const) {
    const prop = props[name];
    if (prop) prop.maxLength = max;
  }
  const validate = new Ajv({ allErrors: true, strict: true }).compile<SubmittedItem[]>(schema);
  return (body) => {
    // maxItems is checked first on its own: allErrors would otherwise walk every item of an oversized batch.
    if (Array.isArray(body) && body.length > limits.maxTokensPerRequest) {
      throw new InvalidRequestError(`The batch has ${body.length} items; at most ${limits.maxTokensPerRequest} are accepted per request`);
    }
    if (validate(body)) return body;
    const details = (validate.errors ?? []).slice(0, MAX_DETAILS).map(detail);
    throw new InvalidRequestError(describe(validate.errors?.length ?? 0), details);
  };
}

const describe = (n: number): string =>
  `The request body must be a JSON array of {type, token, location} objects; ${n} problem(s) found, nothing was accepted`;

/**
 * What a broken `pattern` means, by the property it guards: Ajv's own message would show the regular expression,
 * which tells a caller little. Neither quotes the value.
 */
const PATTERN_MESSAGES: Readonly<Record<string, string>> = {
  token: 'must be printable ASCII without spaces (U+0021 to U+007E): no control character, whitespace or non-ASCII character',
  location: 'must not contain control characters (U+0000 to U+001F, U+007F to U+009F) or unpaired surrogates',
  url: 'must not contain control characters (U+0000 to U+001F, U+007F to U+009F) or unpaired surrogates',
};

/** Ajv messages name the rule broken, never the value: no token can leak through them. */
function detail(e: ErrorObject): ErrorDetail {
  const [, first] = e.instancePath.split('/');
  const index = first === undefined || first === '' ? undefined : Number(first);
  return { ...(index === undefined ? {} : { index }), path: e.instancePath || '/', message: message(e) };
}

function message(e: ErrorObject): string {
  if (e.keyword === 'pattern') {
    const property = e.instancePath.slice(e.instancePath.lastIndexOf('/') + 1);
    const known = PATTERN_MESSAGES[property];
    if (known !== undefined) return known;
  }
  return e.message ?? 'is invalid';
}
