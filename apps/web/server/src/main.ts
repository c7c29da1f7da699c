import { join } from 'node:path';
import { ConfigError } from '@slipway/service-kit';
import { loadWebServerConfig } from './config';
import { createWebServer } from './server';
import { StaticDirError } from './static-files';

async function main(): Promise<void> {
  const config = loadWebServerConfig();
  // The bundle lives in dist/server/main.js and the SPA in dist/public.
  const service = await createWebServer(config, {
    defaultStaticDir: join(__dirname, '..', 'public'),
  });
  service.installSignalHandlers();
  const url = await service.listen();
  service.app.log.info({ url, catalog: config.CATALOG_URL, orders: config.ORDERS_URL }, 'web server listening');
}

main().catch((error: unknown) => {
  // Operator mistakes get their message alone; anything else its stack.
  const known = error instanceof ConfigError || error instanceof StaticDirError;
  process.stderr.write(
    `web server failed to start: ${known ? (error as Error).message : String((error as Error)?.stack ?? error)}\n`,
  );
  process.exit(1);
});
