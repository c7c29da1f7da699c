/** @jest-config-loader-options {"transpileOnly": true, "skipProject": true, "compilerOptions": {"ignoreDeprecations": "6.0"}} */
const { readFileSync } = require('fs');

const swcJestConfig = JSON.parse(readFileSync(`${__dirname}/.spec.swcrc`, 'utf-8'));
swcJestConfig.swcrc = false;

// Fast checks: the workflow scanner and linter, commit conventions, the test-count reporter.
// Clone-the-repo and start-real-servers suites are *.int-spec.ts and run under `integration`.
module.exports = {
  displayName: 'workspace-checks',
  preset: '../../jest.preset.js',
  testEnvironment: 'node',
  transform: {
    '^.+\\.c?[tj]s$': ['@swc/jest', swcJestConfig],
  },
  moduleFileExtensions: ['ts', 'js', 'cjs', 'html'],
  testPathIgnorePatterns: ['/node_modules/', '\\.int-spec\\.ts$'],
  testTimeout: 60_000,
  collectCoverage: true,
  collectCoverageFrom: ['src/lib/**/*.ts', '!src/**/*.spec.ts'],
  coverageReporters: ['text-summary'],
  coverageThreshold: { global: { lines: 80, branches: 80 } },
  coverageDirectory: 'test-output/jest/coverage',
};
