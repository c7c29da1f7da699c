const { readFileSync } = require('fs');

// Reading the SWC compilation config for the spec files
const swcJestConfig = JSON.parse(readFileSync(`${__dirname}/.spec.swcrc`, 'utf-8'));

// Disable .swcrc look-up by SWC core because we're passing in swcJestConfig ourselves
swcJestConfig.swcrc = false;

// Unit tests: the real app in-process (app.inject) on the embedded PGlite, a stand-in catalog over
// real HTTP, and the contract suite against the real catalog process. Real-PostgreSQL, real-Redis
// and SIGTERM suites are *.int-spec.ts under the `integration` target.
module.exports = {
  displayName: 'orders',
  preset: '../../jest.preset.js',
  testEnvironment: 'node',
  transform: {
    '^.+\\.[tj]s$': ['@swc/jest', swcJestConfig],
    // PGlite's CommonJS build loads Node built-ins with import(), which Jest's VM only allows under
    // --experimental-vm-modules: compile those calls to require() (cached after the first run).
    '/@electric-sql/pglite/dist/.+\\.cjs$': [
      '@swc/jest',
      { ...swcJestConfig, module: { type: 'commonjs' }, sourceMaps: false },
    ],
  },
  // jose 6 ships ES modules only (Node loads them with require(esm)); Jest needs them compiled.
  transformIgnorePatterns: ['/node_modules/(?!(@electric-sql/pglite|jose)/)'],
  moduleFileExtensions: ['ts', 'js', 'html'],
  // Resolve workspace libs to their TypeScript sources (the TS solution's custom condition), so a
  // test never runs against a stale dist/ of service-kit or contracts.
  testEnvironmentOptions: { customExportConditions: ['@slipway/source', 'node', 'require', 'default'] },
  testPathIgnorePatterns: ['/node_modules/', '\\.int-spec\\.ts$'],
  testTimeout: 30_000,
  // Coverage is part of every run. Left to the integration suite, which runs them for real:
  // main.ts (process wiring, SIGTERM) and the Redis Idempotency-Key store (needs Redis).
  collectCoverage: true,
  collectCoverageFrom: [
    'src/**/*.ts',
    '!src/**/*.spec.ts',
    '!src/**/*.int-spec.ts',
    '!src/main.ts',
    '!src/app/redis-idempotency-store.ts',
    '!src/test-support/**',
  ],
  coverageReporters: ['text-summary', 'html'],
  coverageThreshold: { global: { lines: 80, branches: 80 } },
  coverageDirectory: 'test-output/jest/coverage',
};
