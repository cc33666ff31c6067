module.exports = { displayName: 'registry-view', preset: '../../jest.preset.js', rootDir: '.', testMatch: ['<rootDir>/src/**/*.spec.ts', '<rootDir>/test/**/*.integration-spec.ts'] };
