import { ConfigError, redactCredentials } from '@slipway/service-kit';
import { buildApp } from './app/app.js';
import { loadOrdersConfig } from './app/config.js';

async function main(): Promise<void> {
  const config = loadOrdersConfig();
  const { service } = await buildApp(config);
  service.installSignalHandlers();
  const url = await service.listen();
  service.app.log.info({ url, catalogUrl: config.CATALOG_URL }, `orders listening on ${url}`);
}

main().catch((error: unknown) => {
  // A ConfigError already lists every problem and its fix; anything else is unexpected.
  const message =
    error instanceof ConfigError
      ? error.message
      : `orders failed to start: ${(error as Error)?.stack ?? String(error)}`;
  process.stderr.write(`${redactCredentials(message)}\n`);
  process.exit(1);
});
