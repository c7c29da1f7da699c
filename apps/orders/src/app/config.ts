import {
  ConfigError,
  baseConfig,
  defineConfig,
  loadConfig,
  type ConfigOf,
  type ConfigProblem,
} from '@slipway/service-kit';

export const ORDERS_DEFAULT_PORT = 3102;

export const ordersConfigSpec = defineConfig({
  ...baseConfig,
  PORT: { ...baseConfig.PORT, default: ORDERS_DEFAULT_PORT },
  DATABASE_URL: {
    type: 'url',
    secret: true,
    description: 'PostgreSQL connection URL; unset = embedded PGlite',
  },
  PGLITE_DATA_DIR: {
    type: 'string',
    description: 'directory the embedded PGlite persists to; unset = in memory (only without DATABASE_URL)',
  },
  DATABASE_POOL_MAX: {
    type: 'int',
    default: 10,
    description: 'PostgreSQL connections per process',
  },
  CATALOG_URL: {
    type: 'url',
    default: 'http://127.0.0.1:3101',
    description: 'base URL of the catalog service',
  },
  CATALOG_TIMEOUT_MS: {
    type: 'duration-ms',
    default: 2_000,
    description: 'per attempt, for each catalog call',
  },
  CATALOG_RETRIES: {
    type: 'int',
    default: 2,
    description: 'extra attempts for a catalog call on network errors, timeouts, 502/503/504 (0-5)',
  },
  IDEMPOTENCY_TTL_MS: {
    type: 'duration-ms',
    default: '24h',
    description: 'how long a completed Idempotency-Key replays its response',
  },
  IDEMPOTENCY_LOCK_MS: {
    type: 'duration-ms',
    default: '30s',
    description: 'lease of a key while its request runs; a crashed holder loses the key after this',
  },
  IDEMPOTENCY_WAIT_MS: {
    type: 'duration-ms',
    default: '10s',
    description: 'how long a request with a key that is in progress waits for the first one to finish',
  },
});

export type OrdersConfig = ConfigOf<typeof ordersConfigSpec>;

/** Cross-variable checks loadConfig cannot express; on raw values so they run when loadConfig fails too. */
function ordersProblems(env: NodeJS.ProcessEnv, config: OrdersConfig | undefined): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const set = (name: string) => env[name]?.trim() || undefined;
  const databaseUrl = set('DATABASE_URL');
  if (databaseUrl && !/^postgres(ql)?:\/\//i.test(databaseUrl)) {
    problems.push({
      variable: 'DATABASE_URL',
      message:
        'is not a postgres:// URL; set it to e.g. postgres://user:password@127.0.0.1:5432/orders, or unset it to use the embedded PGlite',
    });
  }
  if (databaseUrl && set('PGLITE_DATA_DIR')) {
    problems.push({
      variable: 'PGLITE_DATA_DIR',
      message: 'is set together with DATABASE_URL but only applies to the embedded PGlite; unset one of them',
    });
  }
  const catalogUrl = set('CATALOG_URL');
  if (catalogUrl && !/^https?:\/\//i.test(catalogUrl)) {
    problems.push({
      variable: 'CATALOG_URL',
      message: `${JSON.stringify(catalogUrl)} is not an http(s) URL; set it to e.g. http://127.0.0.1:3101`,
    });
  }
  if (!config) return problems;
  if (config.DATABASE_POOL_MAX < 1) {
    problems.push({
      variable: 'DATABASE_POOL_MAX',
      message: `${config.DATABASE_POOL_MAX} is below 1; set it to 1 or more (default 10)`,
    });
  }
  if (config.CATALOG_RETRIES < 0 || config.CATALOG_RETRIES > 5) {
    problems.push({
      variable: 'CATALOG_RETRIES',
      message: `${config.CATALOG_RETRIES} is outside 0-5; set it to e.g. 2`,
    });
  }
  if (config.CATALOG_TIMEOUT_MS < 1) {
    problems.push({
      variable: 'CATALOG_TIMEOUT_MS',
      message: 'must be at least 1 ms; set it to e.g. 2s',
    });
  }
  if (config.IDEMPOTENCY_WAIT_MS > config.IDEMPOTENCY_LOCK_MS) {
    problems.push({
      variable: 'IDEMPOTENCY_WAIT_MS',
      message: `${config.IDEMPOTENCY_WAIT_MS} ms is longer than IDEMPOTENCY_LOCK_MS (${config.IDEMPOTENCY_LOCK_MS} ms); a waiting request would outlive the lease it waits for, set it below`,
    });
  }
  if (config.IDEMPOTENCY_LOCK_MS < 1_000) {
    problems.push({
      variable: 'IDEMPOTENCY_LOCK_MS',
      message: `${config.IDEMPOTENCY_LOCK_MS} ms is below 1s; a slow order would lose its key, set it to e.g. 30s`,
    });
  }
  return problems;
}

/** Every orders variable validated at once; throws one ConfigError listing all problems. */
export function loadOrdersConfig(env: NodeJS.ProcessEnv = process.env): OrdersConfig {
  const problems: ConfigProblem[] = [];
  let config: OrdersConfig | undefined;
  try {
    config = loadConfig(ordersConfigSpec, env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    problems.push(...error.problems);
  }
  problems.push(...ordersProblems(env, config));
  if (problems.length > 0 || !config) throw new ConfigError(problems);
  return config;
}
