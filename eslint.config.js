// Lint: typescript-eslint's recommended rules, plus the import discipline the architecture relies on.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/** Any import of a vendor's folder under providers/ (relative or not): only contract.ts, registry.ts and index.ts are shared. */
const VENDOR_FOLDER = { regex: '(^|/)providers/[^/]+/', message: 'vendor code stays behind the provider contract (providers/contract.ts, providers/registry.ts)' };

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
    // Providers never see Express; the HTTP edge never calls a vendor.
    files: ['providers/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: ['express', '**/src/http/**', '**/src/queue/**'] }] },
  },
  {
    files: ['src/http/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [{ group: ['got', '**/providers/**', '**/src/queue/**', 'bullmq', 'ioredis'] }, VENDOR_FOLDER] }] },
  },
  {
    files: ['src/domain/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [{ group: ['express', 'got', 'bullmq', 'ioredis', '**/providers/**', '**/src/http/**', '**/src/queue/**'] }, VENDOR_FOLDER] }] },
  },
  {
    // The queue runs any provider through the contract and the registry, never a vendor's own code.
    files: ['src/queue/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [VENDOR_FOLDER] }] },
  },
  {
    files: ['test/**/*.ts', 'bench/**/*.ts', 'simulator/cli.ts'],
    rules: { 'no-console': 'off', '@typescript-eslint/no-explicit-any': 'off' },
  },
);
