import nx from '@nx/eslint-plugin';

// Apps only use libs; libs only use libs; shared libs never use the test kit, except in
// their tests.
const boundaries = (sharedMayUse) => [
  'error',
  {
    enforceBuildableLibDependency: true,
    // The one module that spawns services (tools/service-command.cjs: npm start, the
    // tests and the benches run each service with its image's Node flags), and the fault
    // stack that e2e checks cleans up after a failed start. Nothing else outside a project.
    allow: ['../tools/service-command.cjs', '../../tools/service-command.cjs', '../faults/support/fault-stack'],
    depConstraints: [
      { sourceTag: 'type:app', onlyDependOnLibsWithTags: ['type:lib'] },
      { sourceTag: 'type:e2e', onlyDependOnLibsWithTags: ['type:lib'] },
      { sourceTag: 'type:lib', onlyDependOnLibsWithTags: ['type:lib'] },
      { sourceTag: 'scope:shared', onlyDependOnLibsWithTags: sharedMayUse },
    ],
  },
];

export default [
  ...nx.configs['flat/base'],
  ...nx.configs['flat/typescript'],
  ...nx.configs['flat/javascript'],
  { ignores: ['**/dist', '**/node_modules', '**/coverage', 'bench/results'] },
  {
    files: ['**/*.ts', '**/*.js', '**/*.mjs'],
    rules: { '@nx/enforce-module-boundaries': boundaries(['scope:shared']) },
  },
  {
    files: ['**/*.spec.ts', '**/test/**/*.ts'],
    rules: { '@nx/enforce-module-boundaries': boundaries(['scope:shared', 'scope:testing']) },
  },
  {
    files: ['**/*.ts'],
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
];
