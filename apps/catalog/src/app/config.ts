import {
  ConfigError,
  baseConfig,
  defineConfig,
  loadConfig,
  type ConfigOf,
  type ConfigProblem,
} from '@slipway/service-kit';

export const CATALOG_DEFAULT_PORT = 3101;

export const catalogConfigSpec = defineConfig({
  ...baseConfig,
  PORT: { ...baseConfig.PORT, default: CATALOG_DEFAULT_PORT },
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
  API_KEY: {
    type: 'string',
    secret: true,
    description: 'key accepted in the x-api-key header for product writes (16+ characters)',
  },
  JWT_SECRET: {
    type: 'string',
    secret: true,
    description: 'HS256 secret for Authorization: Bearer tokens accepted for product writes (32+ characters)',
  },
  SEED_SAMPLE_DATA: {
    type: 'boolean',
    default: true,
    description: 'insert the sample products at start when the products table is empty',
  },
});

export type CatalogConfig = ConfigOf<typeof catalogConfigSpec>;

export const MIN_API_KEY_LENGTH = 16;
export const MIN_JWT_SECRET_LENGTH = 32;

/** Checks loadConfig's types cannot express; they read the raw values so they run even when loadConfig fails. */
function catalogProblems(env: NodeJS.ProcessEnv): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const set = (name: string) => env[name]?.trim() || undefined;
  const databaseUrl = set('DATABASE_URL');
  if (databaseUrl && !/^postgres(ql)?:\/\//i.test(databaseUrl)) {
    problems.push({
      variable: 'DATABASE_URL',
      message:
        'is not a postgres:// URL; set it to e.g. postgres://user:password@127.0.0.1:5432/catalog, or unset it to use the embedded PGlite',
    });
  }
  if (databaseUrl && set('PGLITE_DATA_DIR')) {
    problems.push({
      variable: 'PGLITE_DATA_DIR',
      message: 'is set together with DATABASE_URL but only applies to the embedded PGlite; unset one of them',
    });
  }
  const poolMax = set('DATABASE_POOL_MAX');
  if (poolMax && /^-?\d+$/.test(poolMax) && Number(poolMax) < 1) {
    problems.push({
      variable: 'DATABASE_POOL_MAX',
      message: `${poolMax} is below 1; set it to 1 or more (default 10)`,
    });
  }
  const apiKey = set('API_KEY');
  if (apiKey && apiKey.length < MIN_API_KEY_LENGTH) {
    problems.push({
      variable: 'API_KEY',
      message: `(value hidden: secret) is shorter than ${MIN_API_KEY_LENGTH} characters; generate one with \`openssl rand -hex 24\``,
    });
  }
  const jwtSecret = set('JWT_SECRET');
  if (jwtSecret && jwtSecret.length < MIN_JWT_SECRET_LENGTH) {
    problems.push({
      variable: 'JWT_SECRET',
      message: `(value hidden: secret) is shorter than ${MIN_JWT_SECRET_LENGTH} characters; generate one with \`openssl rand -hex 32\``,
    });
  }
  return problems;
}

/** Every catalog variable validated at once; throws one ConfigError listing all problems. */
export function loadCatalogConfig(env: NodeJS.ProcessEnv = process.env): CatalogConfig {
  const problems: ConfigProblem[] = [];
  let config: CatalogConfig | undefined;
  try {
    config = loadConfig(catalogConfigSpec, env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    problems.push(...error.problems);
  }
  problems.push(...catalogProblems(env));
  if (problems.length > 0 || !config) throw new ConfigError(problems);
  return config;
}
