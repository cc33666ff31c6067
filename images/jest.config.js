// `npm run test:images`: the Docker images built and run (issue 19). Not part of
// `npm test` (the root config lists apps, libs and e2e only) nor of test:faults: it
// builds five images and runs containers, with its own time budget in CI. The same
// global setup as the other configs (its throwaway CA and test names).
module.exports = {
  displayName: 'images',
  preset: '../jest.preset.js',
  rootDir: '.',
  testMatch: ['<rootDir>/**/*.image-spec.ts'],
  globalSetup: '<rootDir>/../libs/testing/src/jest/global-setup.js',
  globalTeardown: '<rootDir>/../libs/testing/src/jest/global-teardown.js',
  testTimeout: 300_000,
  // One file at a time: image builds and containers load the machine.
  maxWorkers: 1,
  verbose: true,
};
