// `npm test` runs every project from here, once, so one global setup gives the run its
// own database and NATS namespace (libs/testing/src/jest/global-setup.js).
const { existsSync, readdirSync } = require('node:fs');
const { join } = require('node:path');

const projects = ['apps', 'libs']
  .flatMap((dir) => readdirSync(join(__dirname, dir)).map((name) => join(__dirname, dir, name)))
  .concat(join(__dirname, 'e2e'))
  .filter((dir) => existsSync(join(dir, 'jest.config.js')));

module.exports = {
  projects,
  globalSetup: '<rootDir>/libs/testing/src/jest/global-setup.js',
  globalTeardown: '<rootDir>/libs/testing/src/jest/global-teardown.js',
  // A global option: Jest ignores it in project configs and presets.
  testTimeout: 60_000,
  // Two test files at a time on this 2-core machine: most of a file's time is spent waiting
  // for services, NATS and Postgres, and one at a time took 16 minutes.
  maxWorkers: 2,
};
