// Reading vendors' JSON answers, whose shape is never trusted: the one "is this a plain object" check providers share.

/** `value` as a record of fields when it is a JSON object (not null, not an array); otherwise undefined. */
export function asObject(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}

/** A body parsed as JSON when it is an object; undefined for anything else (text, an array, invalid JSON). */
export function parseObject(body: string): Record<string, unknown> | undefined {
  try {
    return asObject(JSON.parse(body));
  } catch {
    return undefined;
  }
}
