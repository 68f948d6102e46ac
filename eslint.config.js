// Lint: typed rules on product code (gateway, node runtime, cluster, protocol, CLI, tools), the
// untyped recommended set on tests and benches (typed linting of the whole tree took too long on
// a 2-core machine). Timers and wall time go through gateway/src/lifecycle/clock.ts, so tests can
// drive them with a manual clock.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const PRODUCT = ['gateway/src/**/*.ts', 'node-runtime/src/**/*.ts', 'cluster/src/**/*.ts', 'protocol/**/*.ts', 'cli/**/*.ts', 'tools/**/*.ts'];

const timeMessage = 'use the Clock (gateway/src/lifecycle/clock.ts) so tests can drive time';

export default tseslint.config(
  { ignores: ['**/node_modules/**', 'dist/**', 'reports/**', '**/results/**', 'models/**', '**/*.js', '**/*.mjs', '**/*.cjs'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
    },
  },
  {
    // Tests read fixture JSON (golden tensors, pack manifests) whose shape the test itself asserts.
    files: ['test/**/*.ts', 'bench/**/*.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
  {
    files: PRODUCT,
    languageOptions: { parserOptions: { project: './tsconfig.lint.json', tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: false }],
    },
  },
  {
    files: ['gateway/src/**/*.ts'],
    ignores: ['gateway/src/lifecycle/clock.ts'],
    rules: {
      'no-restricted-properties': ['error', { object: 'Date', property: 'now', message: timeMessage }],
      'no-restricted-globals': ['error', { name: 'setTimeout', message: timeMessage }, { name: 'setInterval', message: timeMessage }],
    },
  },
);
