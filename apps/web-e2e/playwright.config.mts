import { existsSync } from 'node:fs';
import { defineConfig, devices } from '@playwright/test';
import { nxE2EPreset } from '@nx/playwright/preset';
import { workspaceRoot } from '@nx/devkit';
import type { StackOptions } from './e2e/support/fixtures.js';

/*
 * Two modes:
 * - BASE_URL set (a deployed web, e.g. the smoke executor's `--grep @smoke`): no server is started.
 * - BASE_URL unset: Playwright starts the built stack on ports from web-e2e's range 4300-4399:
 *   catalog :4311, orders :4312 and the production web server :4310 (the e2e target builds them).
 */
const deployedBaseUrl = process.env['BASE_URL'];
const PORTS = { web: 4310, catalog: 4311, orders: 4312 } as const;
const local = (port: number) => `http://127.0.0.1:${port}`;
const baseURL = deployedBaseUrl || local(PORTS.web);

// Only for the catalog this config starts itself; a deployed catalog's key comes from the environment.
const LOCAL_CATALOG_API_KEY = 'e2e-local-catalog-key-not-a-secret';
const LOCAL_VERSIONS = {
  web: '0.0.1-e2e.web',
  catalog: '0.0.1-e2e.catalog',
  orders: '0.0.1-e2e.orders',
} as const;

// Debian's chromium here; on GitHub runners /usr/bin/chromium is absent and Playwright's own browser is used.
const chromiumPath =
  process.env['PLAYWRIGHT_CHROMIUM_PATH'] || (existsSync('/usr/bin/chromium') ? '/usr/bin/chromium' : undefined);

/** Environment shared by the three local servers: embedded databases, no Redis, quiet logs. */
function serverEnv(name: keyof typeof PORTS, extra: Record<string, string> = {}): Record<string, string> {
  return {
    PORT: String(PORTS[name]),
    HOST: '127.0.0.1',
    // Empty = unset for service-kit config: PGlite in memory and in-process rate limits, even when
    // the calling shell exports DATABASE_URL / REDIS_URL for the integration suites.
    DATABASE_URL: '',
    REDIS_URL: '',
    PGLITE_DATA_DIR: '',
    LOG_LEVEL: 'warn',
    APP_VERSION: LOCAL_VERSIONS[name],
    APP_REVISION: 'e2e',
    // The journeys come from one address; keep the per-client limit out of their way.
    RATE_LIMIT_MAX: '10000',
    ...extra,
  };
}

function server(name: keyof typeof PORTS, command: string, extra?: Record<string, string>) {
  return {
    command,
    cwd: workspaceRoot,
    url: `${local(PORTS[name])}/health/readiness`,
    env: serverEnv(name, extra),
    // Notes fact #8: an already running stack on these ports is reused, never started twice.
    reuseExistingServer: true,
    timeout: 120_000,
    stdout: 'pipe' as const,
    stderr: 'pipe' as const,
  };
}

export default defineConfig<StackOptions>({
  ...nxE2EPreset(import.meta.dirname, {
    testDir: './e2e',
    openHtmlReport: 'never',
  }),
  forbidOnly: !!process.env['CI'],
  retries: process.env['CI'] ? 1 : 0,
  // One stack, shared by every journey: run them one at a time on the 2-core machines.
  workers: 1,
  timeout: 60_000,
  expect: { timeout: 10_000 },
  use: {
    baseURL,
    trace: 'on-first-retry',
    catalogApiKey: deployedBaseUrl ? process.env['E2E_CATALOG_API_KEY'] || undefined : LOCAL_CATALOG_API_KEY,
    expectedVersions: deployedBaseUrl ? {} : LOCAL_VERSIONS,
  },
  webServer: deployedBaseUrl
    ? undefined
    : [
        server('catalog', 'node apps/catalog/dist/main.js', {
          API_KEY: LOCAL_CATALOG_API_KEY,
          SEED_SAMPLE_DATA: 'true',
        }),
        server('orders', 'node apps/orders/dist/main.js', {
          CATALOG_URL: local(PORTS.catalog),
        }),
        server('web', 'node apps/web/dist/server/main.js', {
          CATALOG_URL: local(PORTS.catalog),
          ORDERS_URL: local(PORTS.orders),
        }),
      ],
  projects: [
    {
      name: 'chromium',
      use: {
        ...devices['Desktop Chrome'],
        launchOptions: {
          executablePath: chromiumPath,
          args: [
            '--no-sandbox',
            '--disable-gpu',
            '--disable-background-networking',
            '--disable-component-update',
            '--disable-sync',
          ],
        },
      },
    },
  ],
});
