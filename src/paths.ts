// Locates the package's own files (schemas/, package.json) from the sources (tests) or from dist/ (built service) alike.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

function findRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'schemas', 'revoke-tokens-request.schema.json'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error('schemas/ not found above the service code; is the install complete?');
    dir = parent;
  }
  return dir;
}

const root = findRoot();

export const schemaPath = (name: string): string => join(root, 'schemas', name);

/** The version in package.json, for the User-Agent. */
export const packageVersion = (): string => (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string }).version;
