// `npm run test:faults`: the fault scenarios (own nats-server, own Postgres database or
// cluster, kills and outages). Not part of `npm test`: the root config lists apps, libs
// and e2e only. The same global setup and teardown as the root config give the run its
// own database names and NATS namespace (and the throwaway CA for HTTPS receivers).
module.exports = {
  displayName: 'faults',
  preset: '../jest.preset.js',
  rootDir: '.',
  // And the dispatcher's fairness proofs (`*.load-spec.ts`): their bounds (another account's
  // first attempt within 1 s of a 5,000-delivery burst) are timings, which hold on this
  // 2-core machine only when no other test file runs beside them, as here.
  roots: ['<rootDir>', '<rootDir>/../apps/dispatcher/test'],
  testMatch: ['<rootDir>/**/*.fault-spec.ts', '<rootDir>/../apps/dispatcher/test/*.load-spec.ts'],
  globalSetup: '<rootDir>/../libs/testing/src/jest/global-setup.js',
  globalTeardown: '<rootDir>/../libs/testing/src/jest/global-teardown.js',
  // Scenarios start several processes and wait out outages on a 2-core machine shared
  // with other runs; each test sets its own limit too.
  testTimeout: 240_000,
  // One scenario at a time: each is a load test, and kills are timed against progress.
  maxWorkers: 1,
  verbose: true,
};
