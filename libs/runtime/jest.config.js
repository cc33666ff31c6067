module.exports = { displayName: 'runtime', preset: '../../jest.preset.js', rootDir: '.', testMatch: ['<rootDir>/src/**/*.spec.ts', '<rootDir>/test/**/*.integration-spec.ts'] };
