const { readFileSync } = require('fs');

// Reading the SWC compilation config for the spec files
const swcJestConfig = JSON.parse(readFileSync(`${__dirname}/.spec.swcrc`, 'utf-8'));

// Disable .swcrc look-up by SWC core because we're passing in swcJestConfig ourselves
swcJestConfig.swcrc = false;

// Unit tests: in-process services on ephemeral ports, real local HTTP servers, no Redis.
// Real-Redis and child-process (SIGTERM) suites are *.int-spec.ts under the `integration` target.
module.exports = {
  displayName: 'service-kit',
  preset: '../../../jest.preset.js',
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
  transformIgnorePatterns: ['/node_modules/(?!@electric-sql/pglite/)'],
  moduleFileExtensions: ['ts', 'js', 'html'],
  testPathIgnorePatterns: ['/node_modules/', '\\.int-spec\\.ts$'],
  // PGlite (WASM Postgres) takes seconds per cold start on a loaded 2-core machine; 5 s is too tight.
  testTimeout: 30_000,
  collectCoverageFrom: ['src/**/*.ts', '!src/**/*.spec.ts', '!src/**/*.int-spec.ts', '!src/**/test-support/**'],
  coverageReporters: ['text-summary', 'html', 'json-summary'],
  coverageThreshold: {
    global: { lines: 80, branches: 80 },
  },
  coverageDirectory: 'test-output/jest/coverage',
};
