// @ts-check
import js from '@eslint/js';
import { defineConfig } from 'eslint/config';
import tseslint from 'typescript-eslint';

/**
 * Syntax-only typescript-eslint (no type information) keeps `npm run lint` fast; types are
 * checked by `npm run typecheck`. Boundaries are checked by dependency-cruiser, not here.
 */

/** Node's globals for the few plain JavaScript files (configs, scripts). */
const nodeGlobals = {
  process: 'readonly',
  console: 'readonly',
  URL: 'readonly',
  Buffer: 'readonly',
  setTimeout: 'readonly',
  clearTimeout: 'readonly',
};
/** The browser's globals, for the console's page (apps/cli/src/console/public). */
const browserGlobals = {
  document: 'readonly',
  window: 'readonly',
  fetch: 'readonly',
  FormData: 'readonly',
  sessionStorage: 'readonly',
  location: 'readonly',
  setTimeout: 'readonly',
  clearTimeout: 'readonly',
};
const commonJsGlobals = { module: 'writable', require: 'readonly', __dirname: 'readonly', __filename: 'readonly' };

export default defineConfig(
  {
    ignores: [
      '**/node_modules/',
      '**/dist/',
      '.data/',
      'coverage/',
      'test/fixtures/',
      'bench/results/',
      'contracts/generated/',
    ],
  },
  js.configs.recommended,
  tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': [
        'error',
        {
          argsIgnorePattern: '^_',
          varsIgnorePattern: '^_',
          caughtErrorsIgnorePattern: '^_',
          destructuredArrayIgnorePattern: '^_',
        },
      ],
    },
  },
  {
    // Production code logs through pino (nestjs-pino), never the console: console output is not
    // JSON, carries no trace id and bypasses log levels.
    files: ['apps/**', 'modules/**', 'infra/**', 'contracts/**'],
    rules: { 'no-console': 'error' },
  },
  {
    // The `ficus` command talks to a human on a terminal, and benchmarks print their results.
    files: ['apps/cli/**', 'bench/**'],
    rules: { 'no-console': 'off' },
  },
  {
    files: ['**/*.{js,mjs,cjs}'],
    languageOptions: { globals: nodeGlobals },
  },
  {
    files: ['apps/cli/src/console/public/**/*.js'],
    languageOptions: { sourceType: 'module', globals: browserGlobals },
  },
  {
    files: ['**/*.cjs', 'jest.config.js', 'jest.faults.config.js', 'jest.browser.config.js'],
    languageOptions: { sourceType: 'commonjs', globals: commonJsGlobals },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
);
