import { loadCatalogConfig, type CatalogConfig } from '../app/config.js';

export const TEST_API_KEY = 'test-api-key-0123456789';
export const TEST_JWT_SECRET = 'test-jwt-secret-0123456789abcdef0123456789';

/** A catalog configuration as main.ts would load it, for an in-process app on an ephemeral port. */
export function testConfig(env: NodeJS.ProcessEnv = {}): CatalogConfig {
  return loadCatalogConfig({
    PORT: '0',
    HOST: '127.0.0.1',
    LOG_LEVEL: 'silent',
    RATE_LIMIT_MAX: '10000',
    API_KEY: TEST_API_KEY,
    JWT_SECRET: TEST_JWT_SECRET,
    ...env,
  });
}
