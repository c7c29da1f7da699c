/**
 * @jest-config-loader-options {"skipProject": true, "transpileOnly": true, "compilerOptions": {"module": "commonjs", "ignoreDeprecations": "6.0"}}
 */
// The pragma above: @nx/jest:jest loads this file from the workspace root, where ts-node would
// otherwise pick up the root tsconfig.json (a TS-solution file list) and refuse to compile it.
const { readFileSync } = require('fs');

const swcJestConfig = JSON.parse(readFileSync(`${__dirname}/.spec.swcrc`, 'utf-8'));
swcJestConfig.swcrc = false;

// Integration: real PostgreSQL and Redis (DATABASE_URL / REDIS_URL), a private PostgreSQL the
// readiness test stops, and the built service under SIGTERM. One file at a time: shared servers,
// small machine.
module.exports = {
  displayName: 'catalog-integration',
  preset: '../../jest.preset.js',
  testEnvironment: 'node',
  transform: {
    '^.+\\.[tj]s$': ['@swc/jest', swcJestConfig],
    '/@electric-sql/pglite/dist/.+\\.cjs$': [
      '@swc/jest',
      { ...swcJestConfig, module: { type: 'commonjs' }, sourceMaps: false },
    ],
  },
  transformIgnorePatterns: ['/node_modules/(?!(@electric-sql/pglite|jose)/)'],
  testEnvironmentOptions: { customExportConditions: ['@slipway/source', 'node', 'require', 'default'] },
  moduleFileExtensions: ['ts', 'js', 'html'],
  testMatch: ['<rootDir>/src/**/*.int-spec.ts'],
  maxWorkers: 1,
  testTimeout: 180_000,
  coverageDirectory: 'test-output/jest/coverage-integration',
};
