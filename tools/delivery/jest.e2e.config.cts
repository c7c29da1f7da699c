/** @jest-config-loader-options {"transpileOnly": true, "skipProject": true, "compilerOptions": {"ignoreDeprecations": "6.0"}} */
/* eslint-disable */
// The end-to-end releases in temporary clones (nx run delivery:integration-e2e): deploy:local, the
// promotion between two podman environments and the generated service. Same setup as the integration
// suites; a target of its own so that test-all runs it beside delivery:integration.
const integration = require('./jest.integration.config.cts');
const E2E_SUITES = require('./jest.e2e-suites.cjs');

module.exports = {
  ...integration,
  displayName: 'delivery-e2e',
  testMatch: E2E_SUITES.map((suite: string) => `<rootDir>/src/${suite}`),
  testPathIgnorePatterns: ['/node_modules/'],
  coverageDirectory: 'test-output/jest/coverage-e2e',
};
