// Lint: typescript-eslint's recommended rules, plus the import discipline the architecture relies on.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

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
    rules: { 'no-restricted-imports': ['error', { patterns: ['got', '**/providers/**', '**/src/queue/**', 'bullmq', 'ioredis'] }] },
  },
  {
    files: ['src/domain/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: ['express', 'got', 'bullmq', 'ioredis', '**/providers/**', '**/src/http/**', '**/src/queue/**'] }] },
  },
  {
    files: ['test/**/*.ts', 'bench/**/*.ts', 'simulator/cli.ts'],
    rules: { 'no-console': 'off', '@typescript-eslint/no-explicit-any': 'off' },
  },
);
