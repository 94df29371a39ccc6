const base = require('./jest.config');

/**
 * `npm run test:faults`: the fault suite (test/faults/*.faults.ts). It launches the split shop
 * with a fault proxy on every wire and a Kafka broker of its own, on fixed ports, so its files
 * run one at a time. Kept apart from `npm test`'s files because its scenarios take minutes of
 * wall clock by nature (a broker stopped for 60 s is one of them).
 *
 * @type {import('jest').Config}
 */
module.exports = {
  ...base,
  roots: ['<rootDir>/test'],
  testMatch: ['<rootDir>/test/faults/**/*.faults.ts'],
  maxWorkers: 1,
  testTimeout: 240_000,
};
