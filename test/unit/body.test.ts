// src/http/body.ts: the depth scan and the JSON media-type check that run before a body is parsed.
import { checkDepth, isJsonMediaType } from '../../src/http/body.js';

describe('checkDepth', () => {
  it.each([
    ['[]', 1, true],
    ['[{"a":[1]}]', 3, true],
    ['[{"a":[1]}]', 2, false],
    ['["[[[[[[[["]', 1, true],
    ['["\\"[[[["]', 1, true],
  ])('%s within depth %i: %s', (json, depth, ok) => {
    const run = () => checkDepth(Buffer.from(json), depth);
    if (ok) expect(run).not.toThrow();
    else expect(run).toThrow(/entity.too.deep/);
  });
});

describe('isJsonMediaType', () => {
  it.each([
    ['application/json', true],
    ['Application/JSON; charset=utf-8', true],
    [' application/json ;charset=latin1', true], // the charset is judged later, with its own 415
    ['application/vnd.api+json', true],
    ['application/jsonx', false],
    ['application/a/b+json', false],
    ['text/json', false],
    ['text/plain', false],
    ['', false],
    [undefined, false],
  ])('%s: %s', (contentType, ok) => {
    expect(isJsonMediaType(contentType)).toBe(ok);
  });
});
