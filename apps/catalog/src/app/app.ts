import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { createService, serviceOptionsFromConfig, type Service, type ServiceOptions } from '@slipway/service-kit';
import {
  describeDatabase,
  loadMigrations,
  openDatabase,
  runMigrations,
  type Database,
} from '@slipway/service-kit/database';
import { createWriteAuth } from './auth.js';
import type { CatalogConfig } from './config.js';
import { ProductsRepository } from './products-repository.js';
import { registerProductsRoutes } from './products-routes.js';
import { SAMPLE_PRODUCTS } from './sample-products.js';

export const SERVICE_NAME = 'catalog';
export const MIGRATIONS_TABLE = 'schema_migrations';

/*
 * The SQL files ship as build assets (src/assets → dist/assets). Seen from this module they are one
 * level up in the sources, next to the bundle in the esbuild output (dist/main.js), and four levels
 * up in an unbundled esbuild output, which mirrors the workspace (dist/apps/catalog/src/app/app.js).
 */
export function defaultMigrationsDir(): string {
  const candidates = ['../assets/migrations', 'assets/migrations', '../../../../assets/migrations'].map((relative) =>
    resolve(__dirname, relative),
  );
  // security/detect-non-literal-fs-filename: fixed candidates under __dirname, never request input.
  // eslint-disable-next-line security/detect-non-literal-fs-filename
  const found = candidates.find((dir) => existsSync(dir));
  if (!found) {
    throw new Error(`catalog migrations not found in ${candidates.join(', ')}; rebuild with \`nx build catalog\``);
  }
  return found;
}

export interface CatalogDeps {
  /** Use this database instead of opening one from DATABASE_URL / PGLITE_DATA_DIR. The caller closes it. */
  database?: Database;
  migrationsDir?: string;
  /** Overrides for createService (tests: logger, logStream, rateLimit key prefix). */
  service?: Partial<ServiceOptions>;
}

export interface CatalogApp {
  service: Service;
  database: Database;
  products: ProductsRepository;
}

/**
 * Builds the catalog service: migrated database, optional sample data, routes and readiness check.
 * Does not listen: main.ts calls service.listen(), tests use service.app.inject or listen on port 0.
 */
export async function buildApp(config: CatalogConfig, deps: CatalogDeps = {}): Promise<CatalogApp> {
  const service = await createService({
    ...serviceOptionsFromConfig(SERVICE_NAME, config),
    ...deps.service,
  });
  const log = service.app.log;
  const ownsDatabase = !deps.database;
  let database: Database | undefined = deps.database;
  try {
    database ??= await openDatabase({
      url: config.DATABASE_URL,
      pgliteDataDir: config.PGLITE_DATA_DIR,
      max: config.DATABASE_POOL_MAX,
      applicationName: SERVICE_NAME,
      onIdleError: (error) => log.warn({ dbError: error.message }, 'idle database connection lost'),
    });
    log.info(
      {
        database: describeDatabase(database, config.DATABASE_URL, config.PGLITE_DATA_DIR),
      },
      'database selected',
    );

    const migrations = await loadMigrations(deps.migrationsDir ?? defaultMigrationsDir());
    const report = await runMigrations(database, migrations, {
      table: MIGRATIONS_TABLE,
      logger: log,
    });
    log.info(
      {
        applied: report.applied.length,
        alreadyApplied: report.alreadyApplied.length,
      },
      'migrations done',
    );

    const products = new ProductsRepository(database);
    if (config.SEED_SAMPLE_DATA) {
      const inserted = await database.transaction((tx) => new ProductsRepository(tx).seedIfEmpty(SAMPLE_PRODUCTS));
      if (inserted > 0) log.info({ inserted }, 'sample products inserted (SEED_SAMPLE_DATA=false disables this)');
    }
    if (!config.API_KEY && !config.JWT_SECRET) {
      log.warn('neither API_KEY nor JWT_SECRET is set: POST/PUT /products answer 401 until one is configured');
    }

    registerProductsRoutes(service.app, {
      products,
      requireWriteAuth: createWriteAuth({
        apiKey: config.API_KEY,
        jwtSecret: config.JWT_SECRET,
      }),
    });
    const db = database;
    service.addReadinessCheck('db', () => db.ping());
    if (ownsDatabase) service.onShutdown(() => db.close());
    return { service, database, products };
  } catch (error) {
    await service.shutdown('catalog failed to start').catch(() => undefined);
    if (ownsDatabase) await database?.close().catch(() => undefined);
    throw error;
  }
}
