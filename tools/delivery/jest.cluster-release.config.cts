/** @jest-config-loader-options {"transpileOnly": true, "skipProject": true, "compilerOptions": {"ignoreDeprecations": "6.0"}} */
/* eslint-disable */
// The kubectl-mode release suite alone (nx run delivery:cluster-release): a real release of the three
// samples to this machine's cluster, then a config error, a missing image, failing readiness, an OOM
// kill and a failed smoke, each rolled back and held. Same setup as the cluster tier.
const cluster = require('./jest.cluster.config.cts');

module.exports = {
  ...cluster,
  displayName: 'delivery-cluster-release',
  testMatch: ['<rootDir>/src/cluster-tier/deploy-cluster.cluster-spec.ts'],
  testPathIgnorePatterns: ['/node_modules/'],
};
