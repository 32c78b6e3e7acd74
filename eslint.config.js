// Lint: typescript-eslint's recommended rules, plus the import discipline the architecture relies on.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

// ---- The rooms and what each may import -----------------------------------------------------------------------------
// Patterns are regular expressions over the import specifier, so that they match relative imports (`../queue/jobs.js`,
// `../../src/queue/jobs.js`) as well as package names; glob patterns such as `**/src/queue/**` match neither of those.
// Folder names are unique in the tree, so `(^|/)queue/` can only be src/queue. test/unit/boundaries.test.ts lints a
// fixture crossing each rule. The picture: http → domain ← queue → providers (contract, registry); the composition
// roots (src/service.ts, main.ts, cli.ts, providers.ts, operations.ts) wire the rooms together.

/** An import of one of the folders under src/ (`../queue/x.js`, `../../src/queue/x.js`, `./queue/x.js` from a root). */
const room = (name, message) => ({ regex: `(^|/)${name}/`, message });
/** A package, with or without a subpath. */
const pkg = (name, message) => ({ regex: `^${name}(/|$)`, message });

/** Any import of a vendor's folder under providers/ (relative or not): only contract.ts, registry.ts and index.ts are shared. */
const VENDOR_FOLDER = { regex: '(^|/)providers/[^/]+/', message: 'vendor code stays behind the provider contract (providers/contract.ts, providers/registry.ts)' };
/** The explicit provider list reads the Config: the vendor-neutral rooms reach providers through the contract and the registry. */
const PROVIDER_LIST = { regex: '(^|/)providers/index\\.js$', message: 'the provider list (providers/index.ts) is for the composition roots; use providers/contract.ts or providers/registry.ts' };
const ANY_PROVIDER = { regex: '(^|/)providers/', message: 'this room does not reach providers at all (it gets what it needs through src/domain/ports.ts)' };
/** The composition roots wire the rooms; no room imports one back (that would be a cycle through the whole service). */
const ROOTS = { regex: '^(\\.\\./)+(src/)?((service|main|cli|operations|providers)\\.js|service/.*)$', message: 'the composition roots (src/service.ts with src/service/, main.ts, cli.ts, operations.ts, providers.ts) import the rooms, never the reverse' };

const HTTP = room('http', 'only the composition roots build the HTTP edge');
const QUEUE = room('queue', 'the queue is reached through the ports in src/domain/ports.ts');
const METRICS = room('metrics', 'report to the metrics through a port (src/domain/ports.ts), so that metrics and queue form no cycle');
const CONFIG = room('config', 'this room is given its settings by the composition roots, it does not read the Config');
const CREDENTIALS = room('credentials', 'our credentials are reached through the provider contract (CredentialSource) or the ports');
const CLI = room('cli', 'the CLI is an entry point: nothing imports it');
const RUNTIME = room('runtime', 'the runtime (embedded Redis, sandbox) is wired by the composition roots');
const RATE_LIMIT = room('rate-limit', 'the shared rate-limit store is given to the HTTP edge by the composition roots');

const EXPRESS = pkg('express', 'Express stays in src/http');
const BULLMQ = pkg('bullmq', 'BullMQ stays in src/queue (and the composition roots that open its queues)');
const IOREDIS = pkg('ioredis', 'Redis is reached through a port (src/domain/ports.ts) or a store the composition roots hand in');

/** One `no-restricted-imports` per file set: a later config object would replace, not extend, an earlier one's list. */
const rooms = (files, ...patterns) => ({ files, rules: { 'no-restricted-imports': ['error', { patterns }] } });

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'coverage/', 'data/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-console': 'error',
    },
  },
  {
    // A dependency hidden in `await import('../x.js')` is one no static graph (or the rules below) sees.
    files: ['src/**/*.ts', 'providers/**/*.ts'],
    rules: { 'no-restricted-syntax': ['error', { selector: 'ImportExpression[source.value=/^\\./]', message: 'import relative modules statically, so that the dependency is visible (and checked)' }] },
  },
  // What a revocation is: nothing but its own files, src/errors.ts (with src/error-codes.ts) and Node's built-ins.
  rooms(['src/domain/**/*.ts'], { regex: '^\\.\\./(?!errors\\.js$|error-codes\\.js$)', message: 'the domain imports nothing but src/errors.ts (and its catalogue, src/error-codes.ts)' }, { regex: '^(?!node:|\\.)', message: 'the domain uses no package' }),
  rooms(['src/http/**/*.ts'], BULLMQ, IOREDIS, QUEUE, ANY_PROVIDER, CREDENTIALS, CONFIG, CLI, RUNTIME, RATE_LIMIT, ROOTS),
  rooms(['src/queue/**/*.ts'], EXPRESS, HTTP, METRICS, CONFIG, CREDENTIALS, CLI, RUNTIME, RATE_LIMIT, VENDOR_FOLDER, PROVIDER_LIST, ROOTS),
  // Configuration is read first and by everyone: it may import only the domain, src/errors.ts and src/paths.ts (so no
  // provider code either: providers/index.ts reads the Config, not the reverse).
  rooms(['src/config/**/*.ts'], { regex: '^\\.\\./(?!domain/|errors\\.js$|error-codes\\.js$|paths\\.js$)', message: 'the configuration imports only src/domain, src/errors.ts (with src/error-codes.ts) and src/paths.ts' }),
  rooms(['src/credentials/**/*.ts'], EXPRESS, BULLMQ, HTTP, QUEUE, METRICS, CLI, RUNTIME, RATE_LIMIT, VENDOR_FOLDER, PROVIDER_LIST, ROOTS),
  rooms(['src/metrics/**/*.ts'], EXPRESS, BULLMQ, IOREDIS, HTTP, QUEUE, CREDENTIALS, CONFIG, CLI, RUNTIME, RATE_LIMIT, ANY_PROVIDER, ROOTS),
  rooms(['src/rate-limit/**/*.ts'], EXPRESS, BULLMQ, HTTP, QUEUE, METRICS, CREDENTIALS, CONFIG, CLI, RUNTIME, ANY_PROVIDER, ROOTS),
  rooms(['src/runtime/**/*.ts'], EXPRESS, BULLMQ, HTTP, QUEUE, METRICS, CREDENTIALS, CLI, RATE_LIMIT, ANY_PROVIDER, ROOTS),
  // The CLI wires Redis and the Operations like a composition root, but never starts the service.
  rooms(['src/cli/**/*.ts'], EXPRESS, HTTP, METRICS, VENDOR_FOLDER, PROVIDER_LIST, { regex: '^(\\.\\./)+(src/)?(service|main|cli)\\.js$', message: 'the CLI reaches the service only through Redis and the Operations' }),
  // The shared single-file modules are leaves: no room, no root (errors.ts reads its codes from error-codes.ts).
  rooms(['src/errors.ts', 'src/error-codes.ts', 'src/logger.ts', 'src/paths.ts', 'src/keys.ts'], { regex: '^\\.(?!/error-codes\\.js$)', message: 'src/errors.ts, error-codes.ts, logger.ts, paths.ts and keys.ts import no module of ours but the error catalogue' }),
  // The composition roots may import any room, but no vendor's own code.
  // src/service/ is src/service.ts's own parts (the roles, readiness, shutdown): a composition root too.
  rooms(['src/service.ts', 'src/service/**/*.ts', 'src/main.ts', 'src/cli.ts', 'src/providers.ts', 'src/operations.ts'], VENDOR_FOLDER),
  // Providers never see Express, the HTTP edge, the queue or the Config: only the contract, the domain and the logger.
  rooms(['providers/*/**/*.ts', 'providers/contract.ts', 'providers/registry.ts'], EXPRESS, BULLMQ, { regex: '(^|/)src/(?!domain/|logger\\.js$)', message: 'providers import only providers/contract.ts, src/domain and src/logger.ts' }, PROVIDER_LIST, {
    // From a vendor's top folder, `../index.js` is the provider list (which imports that vendor: a cycle).
    regex: '^\\.\\./index\\.js$',
    message: 'a provider does not import the provider list (providers/index.ts)',
  }),
  // The explicit provider list reads the Config for each vendor it builds, and nothing else of the service.
  rooms(['providers/index.ts'], EXPRESS, BULLMQ, { regex: '(^|/)src/(?!domain/|logger\\.js$|config/)', message: 'the provider list reads the Config; it imports no other room' }),
  {
    files: ['test/**/*.ts', 'bench/**/*.ts', 'simulator/cli.ts'],
    rules: { 'no-console': 'off', '@typescript-eslint/no-explicit-any': 'off' },
  },
);
