import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Database, Queryable } from './database.js';

/**
 * Versioned SQL migrations: files named `<version>_<name>.sql` (e.g. `0001_create_products.sql`),
 * applied in version order at start, all pending ones in ONE transaction, each recorded in a
 * migrations table with a checksum. Re-running is a no-op; editing an applied file is refused.
 */
export interface Migration {
  version: number;
  name: string;
  sql: string;
  /** sha256 of the SQL text, recorded so an edited, already-applied file is detected. */
  checksum: string;
}

export interface AppliedMigration {
  version: number;
  name: string;
  checksum: string;
  appliedAt: Date;
}

export interface MigrationLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

export interface RunMigrationsOptions {
  /** Default "schema_migrations". */
  table?: string;
  logger?: MigrationLogger;
}

export interface MigrationReport {
  applied: Migration[];
  /** Versions that were recorded before this run. */
  alreadyApplied: number[];
  /** Recorded versions with no file: the database is ahead of this code (e.g. after a rollback). */
  unknown: number[];
}

export class MigrationError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'MigrationError';
  }
}

const FILE_NAME = /^(\d{1,9})_([a-z0-9][a-z0-9_-]*)\.sql$/;
const TABLE_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

export function checksumOf(sql: string): string {
  return createHash('sha256').update(sql).digest('hex');
}

/** Builds the list from file name/contents pairs; validates names and version uniqueness. */
export function migrationsFrom(files: { fileName: string; sql: string }[], source = 'migrations'): Migration[] {
  const problems: string[] = [];
  const byVersion = new Map<number, string>();
  const migrations: Migration[] = [];
  for (const { fileName, sql } of files) {
    const match = FILE_NAME.exec(fileName);
    if (!match) {
      problems.push(
        `${fileName}: name must be <version>_<name>.sql with a numeric version and a lower-case name, e.g. 0003_add_orders_index.sql`,
      );
      continue;
    }
    const version = Number(match[1]);
    const clash = byVersion.get(version);
    if (clash) {
      problems.push(`${fileName}: version ${version} is also used by ${clash}; give one of them the next free version`);
      continue;
    }
    if (sql.trim() === '') {
      problems.push(`${fileName}: file is empty; write the SQL or delete the file`);
      continue;
    }
    byVersion.set(version, fileName);
    migrations.push({ version, name: match[2], sql, checksum: checksumOf(sql) });
  }
  if (problems.length > 0) throw new MigrationError(`invalid migrations in ${source}:\n  - ${problems.join('\n  - ')}`);
  return migrations.sort((a, b) => a.version - b.version);
}

/** Reads every *.sql file of `dir` (other files are ignored). */
export async function loadMigrations(dir: string): Promise<Migration[]> {
  let entries: string[];
  try {
    // The migrations directory comes from the service's own code (its build assets), never from a request.
    // eslint-disable-next-line security/detect-non-literal-fs-filename
    entries = await readdir(dir);
  } catch (error) {
    throw new MigrationError(`cannot read the migrations directory ${dir}: ${(error as Error).message}`, {
      cause: error,
    });
  }
  const files = await Promise.all(
    entries
      .filter((name) => name.endsWith('.sql'))
      .sort()
      .map(async (fileName) => ({
        fileName,
        // A *.sql name listed from that same directory.
        // eslint-disable-next-line security/detect-non-literal-fs-filename
        sql: await readFile(join(dir, fileName), 'utf8'),
      })),
  );
  if (files.length === 0) throw new MigrationError(`no *.sql migrations found in ${dir}`);
  return migrationsFrom(files, dir);
}

/*
 * Two replicas starting together must not both apply the same migration: a transaction-scoped
 * advisory lock serialises runners. The key is derived from the table name so services sharing a
 * database with distinct tables do not wait on each other.
 */
function advisoryLockKey(table: string): number {
  return createHash('sha256').update(`slipway-migrations:${table}`).digest().readInt32BE(0);
}

async function readApplied(tx: Queryable, table: string): Promise<Map<number, AppliedMigration>> {
  const { rows } = await tx.query<{ version: number; name: string; checksum: string; applied_at: Date }>(
    `SELECT version, name, checksum, applied_at FROM ${table} ORDER BY version`,
  );
  return new Map(
    rows.map((r) => [r.version, { version: r.version, name: r.name, checksum: r.checksum, appliedAt: r.applied_at }]),
  );
}

/** Applies every pending migration in one transaction; a failure rolls all of them back. */
export async function runMigrations(
  db: Database,
  migrations: Migration[],
  options: RunMigrationsOptions = {},
): Promise<MigrationReport> {
  const table = options.table ?? 'schema_migrations';
  if (!TABLE_NAME.test(table)) {
    throw new MigrationError(`migrations table name ${JSON.stringify(table)} is not a plain lower-case SQL identifier`);
  }
  const sorted = [...migrations].sort((a, b) => a.version - b.version);

  return db.transaction(async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock($1)', [advisoryLockKey(table)]);
    await tx.exec(
      `CREATE TABLE IF NOT EXISTS ${table} (
         version integer PRIMARY KEY,
         name text NOT NULL,
         checksum text NOT NULL,
         applied_at timestamptz NOT NULL DEFAULT now()
       )`,
    );
    const recorded = await readApplied(tx, table);

    const edited = sorted.filter((m) => recorded.has(m.version) && recorded.get(m.version)?.checksum !== m.checksum);
    if (edited.length > 0) {
      throw new MigrationError(
        `applied migration${edited.length > 1 ? 's were' : ' was'} edited since: ` +
          edited.map((m) => `${String(m.version).padStart(4, '0')}_${m.name}`).join(', ') +
          '. Restore the original file and put the change in a new migration with the next version',
      );
    }

    const known = new Set(sorted.map((m) => m.version));
    const unknown = [...recorded.keys()].filter((v) => !known.has(v));
    if (unknown.length > 0) {
      // Not fatal: a rollback to an older release must still start against the newer schema.
      // Field names avoid pino's base fields (a service logs its own `version`).
      options.logger?.warn(
        { unknownMigrationVersions: unknown },
        'database has migrations this release does not know (newer release?)',
      );
    }

    const pending = sorted.filter((m) => !recorded.has(m.version));
    for (const migration of pending) {
      try {
        await tx.exec(migration.sql);
      } catch (error) {
        throw new MigrationError(
          `migration ${migration.version}_${migration.name} failed, nothing was applied: ${(error as Error).message}`,
          { cause: error },
        );
      }
      await tx.query(`INSERT INTO ${table} (version, name, checksum) VALUES ($1, $2, $3)`, [
        migration.version,
        migration.name,
        migration.checksum,
      ]);
      options.logger?.info({ migration: `${migration.version}_${migration.name}` }, 'migration applied');
    }
    return { applied: pending, alreadyApplied: [...recorded.keys()], unknown };
  });
}

/** The recorded migrations, oldest first (empty when the table does not exist yet). */
export async function appliedMigrations(db: Queryable, table = 'schema_migrations'): Promise<AppliedMigration[]> {
  if (!TABLE_NAME.test(table)) throw new MigrationError(`migrations table name ${JSON.stringify(table)} is invalid`);
  const { rows } = await db.query<{ exists: boolean }>('SELECT to_regclass($1) IS NOT NULL AS exists', [table]);
  if (!rows[0]?.exists) return [];
  return [...(await readApplied(db, table)).values()];
}
