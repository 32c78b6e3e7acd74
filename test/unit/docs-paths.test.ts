// The repository's paths as its prose names them: the README's layout table names every folder, and every path a
// comment or a document cites exists (a file moved or never written leaves a citation nobody can follow).
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, extname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const read = (path: string) => readFileSync(join(ROOT, path), 'utf8');

/** What .gitignore ignores (its folder entries): built or generated, so a citation of it need not exist here. */
const IGNORED = read('.gitignore').split('\n').map((l) => l.trim()).filter((l) => l.endsWith('/')).map((l) => l.replace(/^\//, ''));
const ignored = (path: string) => path === '.git/' || IGNORED.some((i) => `${path}/`.startsWith(i) || path.startsWith(i));

/** Every file (or folder) under `dir`, ignored ones left out, as paths relative to the root. */
function walk(dir: string, folders = false): string[] {
  return readdirSync(join(ROOT, dir)).flatMap((name) => {
    const path = dir === '' ? name : join(dir, name);
    if (!statSync(join(ROOT, path)).isDirectory()) return folders ? [] : [path];
    if (ignored(`${path}/`)) return [];
    return folders ? [path, ...walk(path, true)] : walk(path);
  });
}

/** The comments of a TypeScript or JavaScript file (not its strings: tests build paths that exist only in fixtures). */
function comments(text: string): string {
  const file = ts.createSourceFile('x.ts', text, ts.ScriptTarget.Latest, false);
  const found = new Map<number, string>();
  const add = (ranges: ts.CommentRange[] | undefined) => ranges?.forEach((r) => found.set(r.pos, text.slice(r.pos, r.end)));
  const visit = (node: ts.Node): void => {
    add(ts.getLeadingCommentRanges(text, node.getFullStart()));
    add(ts.getTrailingCommentRanges(text, node.getEnd()));
    node.getChildren(file).forEach(visit);
  };
  visit(file);
  return [...found.values()].join('\n');
}

/** The prose of a file: a document whole, the comments of code, the `#` lines of configuration and scripts. */
function prose(path: string): string {
  const text = read(path);
  const ext = extname(path);
  if (ext === '.md') return text;
  if (['.ts', '.js', '.mjs', '.cjs'].includes(ext)) return comments(text);
  return text.split('\n').filter((l) => /^\s*#/.test(l)).join('\n');
}

const ROOMS = ['src', 'providers', 'simulator', 'test', 'bench', 'scripts', 'deploy', 'docs', 'schemas'];
/** A path from the root into one of the rooms, with an extension or a trailing slash (`deploy/feed tokens` is prose). */
const CITATION = new RegExp(`(?<![\\w./@~$-])((?:dist/)?(?:${ROOMS.join('|')})/[\\w./-]*(?:\\.[a-z]+|/))`, 'g');
/** A relative link in Markdown, `[text](path)`. */
const LINK = /\]\(([^)#\s]+)/g;

/** A cited file exists as is; `.js` also as its `.ts` source (imports name the built file); `dist/x.js` as `x.ts`. */
function exists(path: string): boolean {
  const source = path.replace(/^dist\//, '');
  if (source === path && ignored(path)) return true;
  return [source, source.replace(/\.js$/, '.ts')].some((c) => existsSync(join(ROOT, c)));
}

function danglingIn(path: string): string[] {
  const text = prose(path);
  const cited = [...text.matchAll(CITATION)].map((m) => (m[1] ?? '').replace(/\.+$/, ''));
  const linked = extname(path) === '.md' ? [...text.matchAll(LINK)].map((m) => m[1] ?? '').filter((t) => !/^[a-z]+:/.test(t)).map((t) => normalize(join(dirname(path), t))) : [];
  return [...cited, ...linked].filter((p) => !exists(p)).map((p) => `${path}: ${p}`);
}

describe('paths in the prose', () => {
  it('every repository path a comment or a document cites exists', () => {
    const files = [...ROOMS.filter((r) => existsSync(join(ROOT, r))).flatMap((r) => walk(r)), 'README.md'];
    expect(files.length).toBeGreaterThan(200);
    expect(files.flatMap(danglingIn)).toEqual([]);
  });

  it('finds the citations it checks: a missing file, a link and a built path', () => {
    const found = (text: string) => [...text.matchAll(CITATION)].map((m) => m[1]);
    expect(found('see docs/gitlab-contract.md section 1; (src/queue/jobs.js), `providers/gitlab/`, deploy/feed tokens, dist/src/cli.js, /app/dist/src/main.js'))
      .toEqual(['docs/gitlab-contract.md', 'src/queue/jobs.js', 'providers/gitlab/', 'dist/src/cli.js']);
    expect(exists('src/queue/jobs.js') && exists('dist/src/cli.js') && exists('bench/results/latest.json')).toBe(true);
    expect(exists('docs/no-such-document.md')).toBe(false);
  });
});

describe("the README's layout table", () => {
  const readme = read('README.md');
  const layout = readme.slice(readme.indexOf('## Layout'), readme.indexOf('\n## ', readme.indexOf('## Layout') + 1));
  const rows = layout.split('\n').filter((l) => l.startsWith('| `'));

  it('names every folder: in a row of its own, or in the row of the folder it is in', () => {
    const folders = walk('', true).filter((f) => f !== 'node_modules' && !f.startsWith('.git'));
    expect(folders).toEqual(expect.arrayContaining(['src/http', 'src/cli', 'providers/gitlab/strategies']));
    const named = (folder: string) =>
      layout.includes(`\`${folder}/\``) ||
      rows.some((row) => folder.startsWith(row.slice(3, row.indexOf('`', 3))) && (row.includes(`\`${basename(folder)}/\``) || row.includes(`\`${folder}/`)));
    expect(folders.filter((f) => !named(f))).toEqual([]);
  });
});
