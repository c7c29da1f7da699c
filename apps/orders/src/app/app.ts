import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import {
  createHttpClient,
  createService,
  serviceOptionsFromConfig,
  type HttpClient,
  type Service,
  type ServiceOptions,
} from '@slipway/service-kit';
import {
  describeDatabase,
  loadMigrations,
  openDatabase,
  runMigrations,
  type Database,
} from '@slipway/service-kit/database';
import { createCatalogClient, type CatalogClient } from './catalog-client.js';
import type { OrdersConfig } from './config.js';
import { PostgresIdempotencyStore, type IdempotencyStore } from './idempotency.js';
import { RedisIdempotencyStore } from './redis-idempotency-store.js';
import { registerOrdersRoutes } from './orders-routes.js';

export const SERVICE_NAME = 'orders';
export const MIGRATIONS_TABLE = 'schema_migrations';
/** How often expired Idempotency-Key rows are deleted (PostgreSQL store only; Redis expires keys itself). */
export const IDEMPOTENCY_SWEEP_INTERVAL_MS = 10 * 60_000;

/*
 * The SQL files ship as build assets (src/assets → dist/assets). Seen from this module they are one
 * level up in the sources, next to the bundle in the esbuild output (dist/main.js), and four levels
 * up in an unbundled esbuild output, which mirrors the workspace (dist/apps/orders/src/app/app.js).
 */
export function defaultMigrationsDir(): string {
  const candidates = ['../assets/migrations', 'assets/migrations', '../../../../assets/migrations'].map((relative) =>
    resolve(__dirname, relative),
  );
  // security/detect-non-literal-fs-filename: fixed candidates under __dirname, never request input.
  // eslint-disable-next-line security/detect-non-literal-fs-filename
  const found = candidates.find((dir) => existsSync(dir));
  if (!found) {
    throw new Error(`orders migrations not found in ${candidates.join(', ')}; rebuild with \`nx build orders\``);
  }
  return found;
}

export interface OrdersDeps {
  /** Use this database instead of opening one from DATABASE_URL / PGLITE_DATA_DIR. The caller closes it. */
  database?: Database;
  /** Talk to the catalog through this client instead of one for CATALOG_URL. */
  catalogHttp?: HttpClient;
  migrationsDir?: string;
  /** Redis key prefix of the idempotency store (tests isolate runs with it). */
  idempotencyKeyPrefix?: string;
  /** Use this Idempotency-Key store instead of the one REDIS_URL selects. */
  idempotency?: IdempotencyStore;
  /** Period of the expired-key sweep of the PostgreSQL store. */
  idempotencySweepIntervalMs?: number;
  /** Overrides for createService (tests: logger, logStream, rateLimit key prefix). */
  service?: Partial<ServiceOptions>;
}

export interface OrdersApp {
  service: Service;
  database: Database;
  catalog: CatalogClient;
  idempotency: IdempotencyStore;
}

/**
 * Builds the orders service: migrated database, catalog client, idempotency store (Redis when
 * REDIS_URL is set, else the orders database), routes and readiness check. Does not listen.
 */
export async function buildApp(config: OrdersConfig, deps: OrdersDeps = {}): Promise<OrdersApp> {
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

    const catalog = createCatalogClient(
      deps.catalogHttp ??
        createHttpClient(config.CATALOG_URL, {
          timeoutMs: config.CATALOG_TIMEOUT_MS,
          retries: config.CATALOG_RETRIES,
        }),
    );

    const timings = {
      lockMs: config.IDEMPOTENCY_LOCK_MS,
      ttlMs: config.IDEMPOTENCY_TTL_MS,
    };
    let idempotency: IdempotencyStore;
    if (deps.idempotency) {
      idempotency = deps.idempotency;
    } else if (service.redis) {
      // The Redis client service-kit opened for REDIS_URL (rate limiting, readiness) serves here too.
      idempotency = new RedisIdempotencyStore(service.redis, timings, deps.idempotencyKeyPrefix);
    } else {
      const store = new PostgresIdempotencyStore(database, timings);
      const sweep = () =>
        store.sweep().then(
          (deleted) => deleted > 0 && log.info({ deleted }, 'expired idempotency keys deleted'),
          (error: unknown) => log.warn({ err: error }, 'idempotency key sweep failed'),
        );
      const timer = setInterval(sweep, deps.idempotencySweepIntervalMs ?? IDEMPOTENCY_SWEEP_INTERVAL_MS).unref();
      service.onShutdown(async () => clearInterval(timer));
      idempotency = store;
    }
    log.info({ store: idempotency.kind }, 'Idempotency-Key store selected');

    registerOrdersRoutes(service.app, {
      database,
      catalog,
      idempotency,
      idempotencyWaitMs: config.IDEMPOTENCY_WAIT_MS,
    });
    const db = database;
    service.addReadinessCheck('db', () => db.ping());
    if (ownsDatabase) service.onShutdown(() => db.close());
    return { service, database, catalog, idempotency };
  } catch (error) {
    await service.shutdown('orders failed to start').catch(() => undefined);
    if (ownsDatabase) await database?.close().catch(() => undefined);
    throw error;
  }
}
