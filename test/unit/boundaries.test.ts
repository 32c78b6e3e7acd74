// The architecture's boundaries hold: vendor code stays in its folder under providers/, and the vendor-neutral layers
// (domain, queue, HTTP edge) neither import it nor name a provider vendor in their code.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ESLint } from 'eslint';

const root = new URL('../..', import.meta.url).pathname;

describe('layer boundaries (lint)', () => {
  const eslint = new ESLint({ cwd: root });
  const lint = async (file: string, code: string) => (await eslint.lintText(code, { filePath: join(root, file) }))[0]?.messages.map((m) => m.ruleId) ?? [];

  it.each([
    ['src/queue/x.ts', "import { KIND_RULES } from '../../providers/gitlab/kinds.js';\nexport const k = KIND_RULES;\n"],
    ['src/queue/x.ts', "import { createSlackProvider } from '../../providers/slack/index.js';\nexport const k = createSlackProvider;\n"],
    ['src/domain/x.ts', "import { GitLabProvider } from '../../providers/gitlab/provider.js';\nexport const k = GitLabProvider;\n"],
    ['src/http/x.ts', "import { GitLabProvider } from '../../providers/gitlab/provider.js';\nexport const k = GitLabProvider;\n"],
  ])('when %s imports a vendor folder, then lint fails', async (file, code) => {
    expect(await lint(file, code)).toContain('no-restricted-imports');
  });

  it('when the queue imports the contract or the registry, then lint passes', async () => {
    const code = "import type { Provider } from '../../providers/contract.js';\nimport type { ProviderRegistry } from '../../providers/registry.js';\nexport type P = [Provider, ProviderRegistry];\n";
    expect(await lint('src/queue/x.ts', code)).toEqual([]);
  });
});

/** Source without comments: what the code does, not what its comments mention. */
const code = (text: string) => text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:])\/\/.*$/gm, '$1');
const files = (dir: string): string[] =>
  readdirSync(join(root, dir), { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : []));

describe('vendor-neutral layers', () => {
  // GitLab is also the caller of the HTTP edge (its X-Gitlab-Token header), so only the domain and queue are held to it.
  it.each([
    ['src/domain', /github|slack|gitlab/i],
    ['src/queue', /github|slack|gitlab/i],
    ['src/http', /github|slack/i],
  ])('when %s is read without comments, then it names no provider vendor', (dir, vendor) => {
    const offenders = files(dir).filter((f) => vendor.test(code(readFileSync(join(root, f), 'utf8'))));
    expect(offenders).toEqual([]);
  });
});
