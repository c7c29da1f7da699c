import baseConfig from '../../eslint.config.mjs';
import securityConfig from '../../eslint.security.config.mjs';

export default [
  ...baseConfig,
  ...securityConfig,
  {
    files: ['**/*.json'],
    rules: {
      '@nx/dependency-checks': [
        'error',
        {
          ignoredFiles: [
            '{projectRoot}/eslint.config.{js,cjs,mjs,ts,cts,mts}',
            '{projectRoot}/jest.config.{js,cjs,mjs,ts,cts,mts}',
            '{projectRoot}/jest.integration.config.{js,cjs,mjs,ts,cts,mts}',
            '{projectRoot}/src/**/*.spec.ts',
            '{projectRoot}/src/**/*.int-spec.ts',
            '{projectRoot}/src/test-support/**',
          ],
        },
      ],
    },
    languageOptions: {
      parser: await import('jsonc-eslint-parser'),
    },
  },
];
