// The architecture's boundaries hold: every room imports only what eslint.config.js allows it (a fixture crosses each
// rule), vendor code stays in its folder under providers/, and the vendor-neutral layers (domain, queue, HTTP edge)
// neither import it nor name a provider vendor in their code.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ESLint } from 'eslint';

const root = new URL('../..', import.meta.url).pathname;

describe('layer boundaries (lint)', () => {
  const eslint = new ESLint({ cwd: root });
  const lint = async (file: string, code: string) => (await eslint.lintText(code, { filePath: join(root, file) }))[0]?.messages.map((m) => m.ruleId) ?? [];
  /** What lint says about a file of `file`'s room importing `spec`, and nothing else. */
  const importing = async (file: string, spec: string) => (await eslint.lintText(`import * as m from '${spec}';\nexport const k = m;\n`, { filePath: join(root, file) }))[0]?.messages ?? [];

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

  // Each row crosses one rule of eslint.config.js, in its relative form and, where it has one, its package form; the
  // expected text is that rule's own message, so that removing the rule (not merely every rule) fails its row.
  const VENDOR = 'vendor code stays behind the provider contract';
  const LIST = 'the provider list (providers/index.ts) is for the composition roots';
  const NO_PROVIDERS = 'this room does not reach providers at all';
  const ROOTS = 'the composition roots (src/service.ts';
  const HTTP = 'only the composition roots build the HTTP edge';
  const QUEUE = 'the queue is reached through the ports';
  const METRICS = 'report to the metrics through a port';
  const CONFIG = 'this room is given its settings by the composition roots';
  const CREDENTIALS = 'our credentials are reached through the provider contract';
  const CLI = 'the CLI is an entry point';
  const RUNTIME = 'the runtime (embedded Redis, sandbox) is wired by the composition roots';
  const RATE_LIMIT = 'the shared rate-limit store is given to the HTTP edge';
  const EXPRESS = 'Express stays in src/http';
  const BULLMQ = 'BullMQ stays in src/queue';
  const IOREDIS = 'Redis is reached through a port';
  const DOMAIN = 'the domain imports nothing but src/errors.ts';
  const CONFIG_ONLY = 'the configuration imports only src/domain, src/errors.ts';
  const PROVIDERS_ONLY = 'providers import only providers/contract.ts, src/domain and src/logger.ts';
  const LEAF = 'import no module of ours but the error catalogue';
  it.each([
    // The domain: nothing but its own files and src/errors.ts.
    ['src/domain/x.ts', '../http/app.js', DOMAIN],
    ['src/domain/x.ts', '../queue/jobs.js', DOMAIN],
    ['src/domain/x.ts', '../../src/queue/jobs.js', DOMAIN],
    ['src/domain/x.ts', '../logger.js', DOMAIN],
    ['src/domain/x.ts', '../../providers/contract.js', DOMAIN],
    ['src/domain/x.ts', 'express', 'the domain uses no package'],
    ['src/domain/x.ts', 'ioredis', 'the domain uses no package'],
    // The HTTP edge: no vendor call, no queue, no Redis.
    ['src/http/x.ts', '../queue/jobs.js', QUEUE],
    ['src/http/x.ts', '../../src/queue/jobs.js', QUEUE],
    ['src/http/admin/x.ts', '../../queue/jobs.js', QUEUE],
    ['src/http/x.ts', '../../providers/registry.js', NO_PROVIDERS],
    ['src/http/x.ts', '../credentials/index.js', CREDENTIALS],
    ['src/http/x.ts', '../config/index.js', CONFIG],
    ['src/http/x.ts', '../rate-limit/budget-store.js', RATE_LIMIT],
    ['src/http/x.ts', '../runtime/sandbox.js', RUNTIME],
    ['src/http/x.ts', '../cli/args.js', CLI],
    ['src/http/x.ts', '../service.js', ROOTS],
    ['src/http/x.ts', 'bullmq', BULLMQ],
    ['src/http/x.ts', 'ioredis', IOREDIS],
    // The queue: providers through the contract and the registry only; metrics through a port.
    ['src/queue/x.ts', '../metrics/index.js', METRICS],
    ['src/queue/x.ts', '../http/app.js', HTTP],
    ['src/queue/x.ts', '../config/index.js', CONFIG],
    ['src/queue/x.ts', '../credentials/index.js', CREDENTIALS],
    ['src/queue/x.ts', '../rate-limit/budget-store.js', RATE_LIMIT],
    ['src/queue/x.ts', '../runtime/embedded-redis.js', RUNTIME],
    ['src/queue/x.ts', '../cli/resources.js', CLI],
    ['src/queue/x.ts', '../../providers/index.js', LIST],
    ['src/queue/x.ts', '../../providers/github/index.js', VENDOR],
    ['src/queue/x.ts', '../operations.js', ROOTS],
    ['src/queue/x.ts', 'express', EXPRESS],
    // The configuration: the domain, src/errors.ts and src/paths.ts only.
    ['src/config/x.ts', '../queue/notifications.js', CONFIG_ONLY],
    ['src/config/x.ts', '../../providers/index.js', CONFIG_ONLY],
    ['src/config/x.ts', '../../providers/gitlab/kinds.js', CONFIG_ONLY],
    ['src/config/x.ts', '../metrics/index.js', CONFIG_ONLY],
    ['src/config/x.ts', '../logger.js', CONFIG_ONLY],
    // Our credentials: no queue, no vendor code.
    ['src/credentials/x.ts', '../queue/jobs.js', QUEUE],
    ['src/credentials/x.ts', '../../providers/gitlab/instance.js', VENDOR],
    ['src/credentials/x.ts', '../../providers/index.js', LIST],
    ['src/credentials/x.ts', '../metrics/index.js', METRICS],
    ['src/credentials/x.ts', '../http/app.js', HTTP],
    ['src/credentials/x.ts', '../cli/args.js', CLI],
    ['src/credentials/x.ts', '../runtime/sandbox.js', RUNTIME],
    ['src/credentials/x.ts', '../rate-limit/budget-store.js', RATE_LIMIT],
    ['src/credentials/x.ts', '../service.js', ROOTS],
    ['src/credentials/x.ts', 'express', EXPRESS],
    ['src/credentials/x.ts', 'bullmq', BULLMQ],
    // The metrics: data through ports, never the queue or the credentials themselves.
    ['src/metrics/x.ts', '../queue/jobs.js', QUEUE],
    ['src/metrics/x.ts', '../credentials/index.js', CREDENTIALS],
    ['src/metrics/x.ts', '../../providers/contract.js', NO_PROVIDERS],
    ['src/metrics/x.ts', '../config/index.js', CONFIG],
    ['src/metrics/x.ts', '../http/app.js', HTTP],
    ['src/metrics/x.ts', '../rate-limit/budget-store.js', RATE_LIMIT],
    ['src/metrics/x.ts', '../runtime/sandbox.js', RUNTIME],
    ['src/metrics/x.ts', '../cli/args.js', CLI],
    ['src/metrics/x.ts', '../service.js', ROOTS],
    ['src/metrics/x.ts', 'bullmq', BULLMQ],
    ['src/metrics/x.ts', 'ioredis', IOREDIS],
    ['src/metrics/x.ts', 'express', EXPRESS],
    // The inbound rate-limit store.
    ['src/rate-limit/x.ts', '../queue/jobs.js', QUEUE],
    ['src/rate-limit/x.ts', '../http/app.js', HTTP],
    ['src/rate-limit/x.ts', '../metrics/index.js', METRICS],
    ['src/rate-limit/x.ts', '../credentials/index.js', CREDENTIALS],
    ['src/rate-limit/x.ts', '../config/index.js', CONFIG],
    ['src/rate-limit/x.ts', '../runtime/sandbox.js', RUNTIME],
    ['src/rate-limit/x.ts', '../cli/args.js', CLI],
    ['src/rate-limit/x.ts', '../../providers/registry.js', NO_PROVIDERS],
    ['src/rate-limit/x.ts', '../service.js', ROOTS],
    ['src/rate-limit/x.ts', 'express', EXPRESS],
    ['src/rate-limit/x.ts', 'bullmq', BULLMQ],
    // The runtime (embedded Redis, sandbox).
    ['src/runtime/x.ts', '../queue/redis.js', QUEUE],
    ['src/runtime/x.ts', '../http/app.js', HTTP],
    ['src/runtime/x.ts', '../metrics/index.js', METRICS],
    ['src/runtime/x.ts', '../credentials/index.js', CREDENTIALS],
    ['src/runtime/x.ts', '../cli/args.js', CLI],
    ['src/runtime/x.ts', '../rate-limit/budget-store.js', RATE_LIMIT],
    ['src/runtime/x.ts', '../../providers/index.js', NO_PROVIDERS],
    ['src/runtime/x.ts', '../service.js', ROOTS],
    ['src/runtime/x.ts', 'express', EXPRESS],
    ['src/runtime/x.ts', 'bullmq', BULLMQ],
    // The CLI: Redis and the Operations, never the service itself.
    ['src/cli/x.ts', '../service.js', 'the CLI reaches the service only through Redis and the Operations'],
    ['src/cli/x.ts', '../main.js', 'the CLI reaches the service only through Redis and the Operations'],
    ['src/cli/x.ts', '../http/app.js', HTTP],
    ['src/cli/x.ts', '../metrics/index.js', METRICS],
    ['src/cli/x.ts', '../../providers/gitlab/index.js', VENDOR],
    ['src/cli/x.ts', '../../providers/index.js', LIST],
    ['src/cli/x.ts', 'express', EXPRESS],
    // The shared single-file modules are leaves.
    ['src/errors.ts', './queue/jobs.js', LEAF],
    ['src/logger.ts', './config/index.js', LEAF],
    ['src/paths.ts', './domain/crypto.js', LEAF],
    ['src/keys.ts', './queue/jobs.js', LEAF],
    ['src/error-codes.ts', './errors.js', LEAF],
    // The composition roots: anything but a vendor's own code.
    ['src/service.ts', '../providers/gitlab/index.js', VENDOR],
    ['src/main.ts', '../providers/github/index.js', VENDOR],
    ['src/cli.ts', '../providers/slack/index.js', VENDOR],
    ['src/providers.ts', '../providers/gitlab/kinds.js', VENDOR],
    ['src/operations.ts', '../providers/report-only/index.js', VENDOR],
    // The providers: the contract, the domain and the logger; never Express, the HTTP edge, the queue or the Config.
    ['providers/gitlab/x.ts', 'express', EXPRESS],
    ['providers/gitlab/x.ts', 'bullmq', BULLMQ],
    ['providers/gitlab/x.ts', '../../src/http/app.js', PROVIDERS_ONLY],
    ['providers/gitlab/x.ts', '../../src/queue/jobs.js', PROVIDERS_ONLY],
    ['providers/gitlab/x.ts', '../../src/config/index.js', PROVIDERS_ONLY],
    ['providers/gitlab/x.ts', '../../src/credentials/store.js', PROVIDERS_ONLY],
    ['providers/gitlab/strategies/x.ts', '../../../src/queue/jobs.js', PROVIDERS_ONLY],
    ['providers/github/x.ts', '../../src/metrics/index.js', PROVIDERS_ONLY],
    ['providers/slack/x.ts', '../index.js', 'a provider does not import the provider list'],
    ['providers/slack/x.ts', '../../providers/index.js', LIST],
    ['providers/contract.ts', '../src/http/app.js', PROVIDERS_ONLY],
    ['providers/registry.ts', '../src/queue/jobs.js', PROVIDERS_ONLY],
    // The provider list reads the Config, and nothing else of the service.
    ['providers/index.ts', '../src/queue/jobs.js', 'the provider list reads the Config; it imports no other room'],
    ['providers/index.ts', '../src/http/app.js', 'the provider list reads the Config; it imports no other room'],
    ['providers/index.ts', 'express', EXPRESS],
    ['providers/index.ts', 'bullmq', BULLMQ],
  ])('when %s imports %s, then lint fails with "%s"', async (file, spec, message) => {
    const messages = await importing(file, spec);
    expect(messages.filter((m) => m.ruleId === 'no-restricted-imports').map((m) => m.message)).toEqual(expect.arrayContaining([expect.stringContaining(message)]));
  });

  // What each room may import: the rules above do not catch the imports the picture allows.
  it.each([
    ['src/domain/x.ts', '../errors.js'],
    ['src/domain/x.ts', '../error-codes.js'],
    ['src/errors.ts', './error-codes.js'],
    ['src/domain/x.ts', './outcome.js'],
    ['src/domain/x.ts', 'node:crypto'],
    ['src/http/x.ts', '../domain/ports.js'],
    ['src/http/x.ts', '../metrics/index.js'],
    ['src/http/x.ts', './errors.js'],
    ['src/http/admin/x.ts', '../errors.js'],
    ['src/http/x.ts', 'express'],
    ['src/queue/x.ts', './operations.js'],
    ['src/queue/x.ts', '../keys.js'],
    ['src/queue/x.ts', '../domain/ports.js'],
    ['src/queue/x.ts', 'bullmq'],
    ['src/config/x.ts', '../domain/credentials.js'],
    ['src/config/x.ts', '../errors.js'],
    ['src/config/x.ts', '../paths.js'],
    ['src/config/x.ts', './variables.js'],
    ['src/credentials/x.ts', '../../providers/contract.js'],
    ['src/credentials/x.ts', '../config/index.js'],
    ['src/credentials/x.ts', 'ioredis'],
    ['src/metrics/x.ts', '../domain/ports.js'],
    ['src/metrics/x.ts', 'prom-client'],
    ['src/rate-limit/x.ts', 'express-rate-limit'],
    ['src/rate-limit/x.ts', 'ioredis'],
    ['src/runtime/x.ts', '../config/index.js'],
    ['src/runtime/x.ts', '../../simulator/index.js'],
    ['src/cli/x.ts', '../operations.js'],
    ['src/cli/x.ts', '../providers.js'],
    ['src/cli/x.ts', '../queue/breakers.js'],
    ['src/service.ts', './queue/jobs.js'],
    ['src/service.ts', '../providers/index.js'],
    ['src/service.ts', './http/app.js'],
    ['providers/gitlab/x.ts', '../contract.js'],
    ['providers/gitlab/x.ts', '../../src/domain/outcome.js'],
    ['providers/gitlab/x.ts', '../../src/logger.js'],
    ['providers/gitlab/x.ts', '../http-client.js'],
    ['providers/index.ts', '../src/config/index.js'],
    ['providers/index.ts', './gitlab/index.js'],
  ])('when %s imports %s, then lint passes', async (file, spec) => {
    expect(await importing(file, spec)).toEqual([]);
  });

  it('when a module imports a relative module dynamically, then lint fails (the dependency must be visible)', async () => {
    expect(await lint('src/cli/x.ts', "export const load = () => import('../service.js');\n")).toContain('no-restricted-syntax');
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
