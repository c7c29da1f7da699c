// Test helpers every service's integration suite needs (`@slipway/service-kit/testing`): a uniquely
// named database on the shared test server, and a private PostgreSQL a test may stop. One copy for
// the sample services and every generated one. Imported only by *.int-spec.ts files, never bundled.
export {
  createTestDatabase,
  SHARED_DATABASE_URL,
  SHARED_REDIS_URL,
  type TestDatabase,
} from './lib/testing/test-database.js';
export { freePortInRange, startPrivatePostgres, type PrivatePostgres } from './lib/testing/private-postgres.js';
