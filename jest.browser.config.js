const base = require('./jest.config');

/**
 * `npm run test:browser`: the console's pages, and the page a confirmation email's link opens, in
 * a real browser (test/browser/*.browser.ts):
 * playwright-core driving the machine's Chromium (Debian's `chromium`, which `.ci/run` installs
 * with apt-get; FICUS_CHROMIUM names another). Kept apart from `npm test`, whose machine needs
 * no browser.
 *
 * @type {import('jest').Config}
 */
module.exports = {
  ...base,
  roots: ['<rootDir>/test'],
  testMatch: ['<rootDir>/test/browser/**/*.browser.ts'],
  maxWorkers: 1,
  testTimeout: 120_000,
};
