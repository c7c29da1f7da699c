/**
 * The @nx/jest:jest executor loads this file from the workspace root, where ts-node would pick up the
 * root solution tsconfig.json (TS5011 under TypeScript 6); a plain CommonJS config needs no project.
 * @jest-config-loader-options {"skipProject": true, "transpileOnly": true, "compilerOptions": {"module": "CommonJS", "ignoreDeprecations": "6.0"}}
 */
const { readFileSync } = require('fs');

const swcJestConfig = JSON.parse(readFileSync(`${__dirname}/.spec.swcrc`, 'utf-8'));
swcJestConfig.swcrc = false;

// Integration suites use the real Redis (REDIS_URL) and spawn child service processes that get
// SIGTERM. One file at a time: the machine is small and shared.
module.exports = {
  displayName: 'service-kit-integration',
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
  testMatch: ['<rootDir>/src/**/*.int-spec.ts'],
  maxWorkers: 1,
  testTimeout: 60_000,
  coverageDirectory: 'test-output/jest/coverage-integration',
};
