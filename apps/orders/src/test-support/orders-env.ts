import { loadOrdersConfig, type OrdersConfig } from '../app/config.js';

/** An orders configuration as main.ts would load it, for an in-process app on an ephemeral port. */
export function testConfig(env: NodeJS.ProcessEnv = {}): OrdersConfig {
  return loadOrdersConfig({
    PORT: '0',
    HOST: '127.0.0.1',
    LOG_LEVEL: 'silent',
    RATE_LIMIT_MAX: '10000',
    CATALOG_TIMEOUT_MS: '3000',
    CATALOG_RETRIES: '1',
    ...env,
  });
}
