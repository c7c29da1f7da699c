/** @jest-config-loader-options {"transpileOnly": true, "skipProject": true, "compilerOptions": {"ignoreDeprecations": "6.0"}} */
const { readFileSync } = require('fs');

const swcJestConfig = JSON.parse(readFileSync(`${__dirname}/.spec.swcrc`, 'utf-8'));
swcJestConfig.swcrc = false;

// Slow, real-process suites: a temporary clone of the repository driven through `nx show projects
// --affected`, real PostgreSQL/Redis started by tools/scripts/test-services.sh on spare ports.
// One file at a time: each of them already keeps both cores busy.
module.exports = {
  displayName: 'workspace-checks-integration',
  preset: '../../jest.preset.js',
  testEnvironment: 'node',
  transform: {
    '^.+\\.c?[tj]s$': ['@swc/jest', swcJestConfig],
  },
  moduleFileExtensions: ['ts', 'js', 'cjs', 'html'],
  testMatch: ['<rootDir>/src/**/*.int-spec.ts'],
  maxWorkers: 1,
  testTimeout: 600_000,
  coverageDirectory: 'test-output/jest/coverage-integration',
};
