module.exports = { displayName: 'e2e', preset: '../jest.preset.js', rootDir: '.', testMatch: ['<rootDir>/**/*.e2e-spec.ts'], testTimeout: 60_000 };
