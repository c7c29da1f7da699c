module.exports = {
  displayName: 'web',
  preset: '../../jest.preset.js',
  transform: {
    '^(?!.*\\.(js|jsx|ts|tsx|css|json)$)': '@nx/react/plugins/jest',
    '^.+\\.[tj]sx?$': ['babel-jest', { presets: ['@nx/react/babel'] }],
  },
  moduleFileExtensions: ['ts', 'tsx', 'js', 'jsx', 'mjs', 'cjs', 'json'],
  // jsdom for the SPA; server specs switch to node with a @jest-environment docblock.
  setupFilesAfterEnv: ['<rootDir>/src/test-setup.ts'],
  testPathIgnorePatterns: ['/node_modules/', '<rootDir>/dist/'],
  // The build machines are shared and busy: generous bounds keep slow runs from failing spuriously.
  testTimeout: 20_000,
  collectCoverage: true,
  collectCoverageFrom: [
    'src/**/*.{ts,tsx}',
    'server/src/**/*.ts',
    // Entry points only wire real browser/process globals together; e2e exercises them.
    '!src/main.tsx',
    '!server/src/main.ts',
    '!src/testing/**',
    '!src/test-setup.ts',
    '!**/*.spec.{ts,tsx}',
    '!**/testing/**',
  ],
  coverageReporters: ['text-summary', 'html'],
  coverageThreshold: { global: { lines: 80, branches: 80 } },
  coverageDirectory: 'test-output/jest/coverage',
};
