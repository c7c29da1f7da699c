import { randomBytes } from 'node:crypto';
import { createPostgresDatabase } from '../database/database.js';

export const SHARED_DATABASE_URL =
  process.env['DATABASE_URL'] || 'postgres://postgres:postgres@127.0.0.1:5432/postgres';
export const SHARED_REDIS_URL = process.env['REDIS_URL'] || 'redis://127.0.0.1:6379';

export interface TestDatabase {
  name: string;
  url: string;
  drop(): Promise<void>;
}

/** A freshly created, uniquely named database on the server of `adminUrl`, dropped by drop(). */
export async function createTestDatabase(prefix: string, adminUrl = SHARED_DATABASE_URL): Promise<TestDatabase> {
  const name = `${prefix}_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
  const admin = createPostgresDatabase(adminUrl, { max: 1 });
  try {
    // Identifiers cannot be parameters; the name is generated above from [a-z0-9_] only.
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.close();
  }
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    name,
    url: url.toString(),
    async drop() {
      const dropper = createPostgresDatabase(adminUrl, { max: 1 });
      try {
        await dropper.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await dropper.close();
      }
    },
  };
}
