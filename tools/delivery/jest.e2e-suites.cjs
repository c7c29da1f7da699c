// The end-to-end releases in temporary clones, relative to src/: the integration-e2e target
// (jest.e2e.config.cts) runs them, the integration target (jest.integration.config.cts) leaves them out.
module.exports = [
  'executors/deploy/deploy.int-spec.ts',
  'executors/deploy/promotion.int-spec.ts',
  'generators/service/service.int-spec.ts',
];
