/** @jest-config-loader-options {"transpileOnly": true, "skipProject": true, "compilerOptions": {"ignoreDeprecations": "6.0"}} */
/* eslint-disable */
const { readFileSync } = require('fs');

// Reading the SWC compilation config for the spec files
const swcJestConfig = JSON.parse(readFileSync(`${__dirname}/.spec.swcrc`, 'utf-8'));

// Disable .swcrc look-up by SWC core because we're passing in swcJestConfig ourselves
swcJestConfig.swcrc = false;

// Unit tests: pure modules and executors with swapped adapters. Real-engine, real-registry and
// real-git suites are *.int-spec.ts and run under the `integration` target instead.
module.exports = {
  displayName: 'delivery',
  preset: '../../jest.preset.js',
  testEnvironment: 'node',
  transform: {
    '^.+\\.[tj]s$': ['@swc/jest', swcJestConfig],
  },
  moduleFileExtensions: ['ts', 'js', 'html'],
  testPathIgnorePatterns: ['/node_modules/', '\\.int-spec\\.ts$'],
  coverageDirectory: 'test-output/jest/coverage',
};
