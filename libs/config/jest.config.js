module.exports = { displayName: 'config', preset: '../../jest.preset.js', rootDir: '.', testMatch: ['<rootDir>/src/**/*.spec.ts', '<rootDir>/test/**/*.integration-spec.ts'] };
