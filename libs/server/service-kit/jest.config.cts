const { readFileSync } = require('fs');

// Reading the SWC compilation config for the spec files
const swcJestConfig = JSON.parse(
  readFileSync(`${__dirname}/.spec.swcrc`, 'utf-8'),
);

// Disable .swcrc look-up by SWC core because we're passing in swcJestConfig ourselves
swcJestConfig.swcrc = false;

module.exports = {
  displayName: 'service-kit',
  preset: '../../../jest.preset.js',
  testEnvironment: 'node',
  transform: {
    '^.+\\.[tj]s$': ['@swc/jest', swcJestConfig],
    // PGlite's CommonJS build loads Node built-ins with import(), which Jest's VM only allows under
    // --experimental-vm-modules: compile those calls to require() (cached after the first run).
    '/@electric-sql/pglite/dist/.+\\.cjs$': ['@swc/jest', { ...swcJestConfig, module: { type: 'commonjs' }, sourceMaps: false }],
  },
  transformIgnorePatterns: ['/node_modules/(?!@electric-sql/pglite/)'],
  moduleFileExtensions: ['ts', 'js', 'html'],
  coverageDirectory: 'test-output/jest/coverage',
};
