/** @jest-config-loader-options {"transpileOnly": true, "skipProject": true, "compilerOptions": {"ignoreDeprecations": "6.0"}} */
/* eslint-disable */
const { readFileSync } = require('fs');

const swcJestConfig = JSON.parse(readFileSync(`${__dirname}/.spec.swcrc`, 'utf-8'));
swcJestConfig.swcrc = false;

// Integration suites drive real buildah/podman, a real registry, real git remotes and real servers.
// They run one file at a time: the engines share one storage and the machine has two cores.
// Jest 30 renamed --testPathPattern to --testPathPatterns; the @nx/jest executor forwards the old
// flag untouched and Jest then ignores it, running every suite. Honour it as a path filter so
// `nx run delivery:integration --testPathPattern='bump|gitops'` runs only those suites.
const argv = process.argv;
const legacyIndex = argv.findIndex((a) => a === '--testPathPattern' || a.startsWith('--testPathPattern='));
const legacyPathPattern =
  legacyIndex === -1
    ? undefined
    : argv[legacyIndex].includes('=')
      ? argv[legacyIndex].split('=').slice(1).join('=')
      : argv[legacyIndex + 1];

module.exports = {
  displayName: 'delivery-integration',
  preset: '../../jest.preset.js',
  testEnvironment: 'node',
  transform: {
    '^.+\\.[tj]s$': ['@swc/jest', swcJestConfig],
  },
  moduleFileExtensions: ['ts', 'js', 'html'],
  testMatch: ['<rootDir>/src/**/*.int-spec.ts'],
  testPathIgnorePatterns: ['/node_modules/', ...(legacyPathPattern ? [`^(?!.*(?:${legacyPathPattern})).*$`] : [])],
  maxWorkers: 1,
  testTimeout: 600_000,
  coverageDirectory: 'test-output/jest/coverage-integration',
};
