// src/runtime/node-version.ts: which Node.js versions get a start-up warning.
import { nodeSupportWarning } from '../../src/runtime/node-version.js';

describe('supported Node.js', () => {
  it.each([
    ['20.20.2', true],
    ['22.11.0', true],
    ['24.22.3', false],
    ['26.0.0', false],
  ])('when the process runs on Node.js %s, then a warning is due: %s', (version, warns) => {
    const warning = nodeSupportWarning(version);
    expect(warning !== undefined).toBe(warns);
    if (warning) expect(warning).toContain(`Node.js ${version} is not supported`);
  });
});
