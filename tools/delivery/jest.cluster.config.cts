/** @jest-config-loader-options {"transpileOnly": true, "skipProject": true, "compilerOptions": {"ignoreDeprecations": "6.0"}} */
/* eslint-disable */
const { readFileSync } = require('fs');

const swcJestConfig = JSON.parse(readFileSync(`${__dirname}/.spec.swcrc`, 'utf-8'));
swcJestConfig.swcrc = false;

// The cluster tier: suites (*.cluster-spec.ts) that run against this machine's real Kubernetes
// (tools/scripts/cluster.sh). One file at a time: they share one cluster and the machine has two cores.
module.exports = {
  displayName: 'delivery-cluster',
  preset: '../../jest.preset.js',
  testEnvironment: 'node',
  transform: {
    '^.+\\.[tj]s$': ['@swc/jest', swcJestConfig],
  },
  moduleFileExtensions: ['ts', 'js', 'html'],
  testMatch: ['<rootDir>/src/**/*.cluster-spec.ts'],
  // The kubectl-mode release and failure suite has its own target (delivery:cluster-release) until
  // it has passed on this machine's cluster: see deploy/README.md and the stop note.
  testPathIgnorePatterns: ['/node_modules/', '/deploy-cluster\\.cluster-spec\\.ts$'],
  globalSetup: '<rootDir>/cluster-tier/global-setup.cjs',
  globalTeardown: '<rootDir>/cluster-tier/global-teardown.cjs',
  maxWorkers: 1,
  testTimeout: 900_000,
  coverageDirectory: 'test-output/jest/coverage-cluster',
};
