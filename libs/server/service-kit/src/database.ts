// The database layer is its own entry point (`@slipway/service-kit/database`) so that a service
// without a database (the web server) does not bundle pg and PGlite just by importing the kit.
export {
  createPgliteDatabase,
  createPostgresDatabase,
  describeDatabase,
  isDatabaseError,
  openDatabase,
  UNIQUE_VIOLATION,
  type Database,
  type OpenDatabaseOptions,
  type PgliteOptions,
  type PostgresOptions,
  type Queryable,
  type QueryResult,
} from './lib/database/database.js';
export {
  appliedMigrations,
  checksumOf,
  loadMigrations,
  MigrationError,
  migrationsFrom,
  runMigrations,
  type AppliedMigration,
  type Migration,
  type MigrationLogger,
  type MigrationReport,
  type RunMigrationsOptions,
} from './lib/database/migrations.js';
