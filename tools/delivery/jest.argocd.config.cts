/** @jest-config-loader-options {"transpileOnly": true, "skipProject": true, "compilerOptions": {"ignoreDeprecations": "6.0"}} */
const { readFileSync } = require('fs');

const swcJestConfig = JSON.parse(readFileSync(`${__dirname}/.spec.swcrc`, 'utf-8'));
swcJestConfig.swcrc = false;

// The gitops tier: suites that need this machine's Kubernetes cluster with Argo CD beside it
// (*.argocd.cluster-spec.ts; the cluster tier's config runs them too, each suite starting Argo CD
// itself when it is not running). The global setup starts what is not running yet
// (tools/scripts/cluster.sh, tools/scripts/argocd.sh) and the teardown stops exactly that, by PID.
// One file at a time: they share one cluster and the machine has two cores.
module.exports = {
  displayName: 'delivery-argocd',
  preset: '../../jest.preset.js',
  testEnvironment: 'node',
  transform: {
    '^.+\\.[tj]s$': ['@swc/jest', swcJestConfig],
  },
  moduleFileExtensions: ['ts', 'js', 'html'],
  testMatch: ['<rootDir>/src/**/*.argocd.cluster-spec.ts'],
  globalSetup: '<rootDir>/argocd.global-setup.cjs',
  globalTeardown: '<rootDir>/argocd.global-teardown.cjs',
  maxWorkers: 1,
  testTimeout: 600_000,
  coverageDirectory: 'test-output/jest/coverage-argocd',
};
