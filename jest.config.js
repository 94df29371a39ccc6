const { existsSync } = require('node:fs');
const { join } = require('node:path');

/**
 * Jest runs TypeScript through SWC (no type check here: `npm run typecheck` does that), with
 * legacy decorators and decorator metadata so that Nest's dependency injection sees constructor
 * parameter types, as in `.swcrc`.
 *
 * @type {import('jest').Config}
 */
module.exports = {
  testEnvironment: 'node',
  globalSetup: '<rootDir>/test/support/global-setup.ts',
  globalTeardown: '<rootDir>/test/support/global-teardown.ts',
  setupFiles: ['<rootDir>/test/support/test-env.ts'],
  testTimeout: 60_000,
  // Two cores: two workers, each test file on its own database.
  maxWorkers: 2,
  // Jest refuses a root that does not exist; modules/ may not yet.
  roots: ['test', 'modules'].filter((dir) => existsSync(join(__dirname, dir))).map((dir) => `<rootDir>/${dir}`),
  testMatch: ['<rootDir>/test/**/*.test.ts', '<rootDir>/modules/**/*.test.ts'],
  testPathIgnorePatterns: ['/node_modules/', '/dist/', '/test/fixtures/'],
  moduleFileExtensions: ['ts', 'js', 'mjs', 'cjs', 'json'],
  transform: {
    '^.+\\.ts$': [
      '@swc/jest',
      {
        jsc: {
          parser: { syntax: 'typescript', decorators: true },
          transform: { legacyDecorator: true, decoratorMetadata: true },
          target: 'es2022',
          keepClassNames: true,
        },
        module: { type: 'commonjs' },
        sourceMaps: 'inline',
      },
    ],
  },
  moduleNameMapper: {
    '^@contracts/(.*)$': '<rootDir>/contracts/$1',
    '^@modules/([^/]+)$': '<rootDir>/modules/$1/src/index.ts',
    '^@infra/(.*)$': '<rootDir>/infra/$1',
    '^@apps/([^/]+)$': '<rootDir>/apps/$1/src',
  },
};
