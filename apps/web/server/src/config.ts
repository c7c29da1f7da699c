import { baseConfig, defineConfig, loadConfig, type ConfigOf } from '@slipway/service-kit';

/** Environment of the production web server (apps/web/server); every variable is checked at start. */
export const webServerConfig = defineConfig({
  ...baseConfig,
  PORT: { ...baseConfig.PORT, default: 4300 },
  CATALOG_URL: {
    type: 'url',
    default: 'http://127.0.0.1:3101',
    description: 'catalog service base URL; /api/catalog/* is proxied there',
  },
  ORDERS_URL: {
    type: 'url',
    default: 'http://127.0.0.1:3102',
    description: 'orders service base URL; /api/orders/* is proxied there',
  },
  STATIC_DIR: {
    type: 'string',
    description: 'directory holding the built SPA (index.html, assets/); default: ../public next to the server bundle',
  },
  UPSTREAM_TIMEOUT_MS: {
    type: 'duration-ms',
    default: 10_000,
    description: 'how long a proxied request may wait for the upstream response headers before a 504',
  },
  TRUST_PROXY: {
    type: 'boolean',
    default: false,
    description: 'trust X-Forwarded-* from the ingress, so rate limits and logs see client addresses',
  },
});

export type WebServerConfig = ConfigOf<typeof webServerConfig>;

export function loadWebServerConfig(env: NodeJS.ProcessEnv = process.env): WebServerConfig {
  return loadConfig(webServerConfig, env);
}
