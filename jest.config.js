/** ESM + ts-jest (isolated modules: `npm run typecheck` does the type checking). */
export default {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  transform: { '^.+\\.ts$': ['ts-jest', { useESM: true, tsconfig: 'tsconfig.json' }] },
  moduleNameMapper: {
    '^nestjs-redis-session$': '<rootDir>/libs/session/src/index.ts',
    '^(\\.{1,2}/.*)\\.js$': '$1',
  },
  testMatch: ['<rootDir>/test/**/*.spec.ts', '<rootDir>/libs/**/*.spec.ts'],
  globalSetup: '<rootDir>/test/harness/global-setup.js',
  globalTeardown: '<rootDir>/test/harness/global-teardown.js',
  testTimeout: 30000,
  // A worker that grew past this after a suite is replaced: suites' modules pile up in a worker's
  // heap, and the pauses of a large heap's collection would land in the next suites' time bounds.
  workerIdleMemoryLimit: '1GB',
};
