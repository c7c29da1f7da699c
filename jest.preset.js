const nxPreset = require('@nx/jest/preset').default;

module.exports = {
  ...nxPreset,
  // Besides the console output, every Jest run writes its counts to
  // <project>/test-output/jest/results-<displayName>.json for `npm run test:all`'s summary line.
  reporters: ['default', require.resolve('./tools/scripts/jest-results-reporter.cjs')],
};
