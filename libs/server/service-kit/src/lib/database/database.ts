import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import { redactCredentials } from '../config.js';

/**
 * One narrow database interface for services, with two implementations:
 * - PostgreSQL through a pg Pool (DATABASE_URL set: staging, production, integration tests);
 * - PGlite, real Postgres compiled to WASM, in-process (DATABASE_URL unset: `nx serve` on a bare
 *   machine, fast unit tests). In memory, or persisted to a directory.
 * Services write plain parameterized SQL against it; both implementations return the same JS types.
 */
export interface QueryResult<Row> {
  rows: Row[];
  /** Rows returned, or for INSERT/UPDATE/DELETE without RETURNING the rows affected. */
  rowCount: number;
}

export interface Queryable {
  /** One statement with $1..$n placeholders. Never interpolate values into `sql`. */
  query<Row = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<QueryResult<Row>>;
  /** A script of several statements without parameters (migrations). */
  exec(sql: string): Promise<void>;
}

export interface Database extends Queryable {
  readonly kind: 'postgres' | 'pglite';
  /** Runs `fn` in BEGIN/COMMIT on one connection; ROLLBACK and rethrow when it throws. */
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>;
  /** Resolves when the database answers `SELECT 1`: the readiness check. */
  ping(): Promise<void>;
  /** Idempotent. */
  close(): Promise<void>;
}

/** SQLSTATE of a unique-constraint violation, for mapping to 409 and for claim races. */
export const UNIQUE_VIOLATION = '23505';

/** True when `error` is a database error with the given SQLSTATE (both drivers set `.code`). */
export function isDatabaseError(
  error: unknown,
  sqlState: string,
): error is Error & { code: string; constraint?: string } {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === sqlState;
}

const INT8_OID = 20;

/*
 * pg returns int8 (count(*), bigint columns) as strings because JS numbers lose precision above
 * 2^53; PGlite returns numbers. Services deal in counts and cents far below 2^53, so parse to
 * number in both, and fail loudly instead of silently rounding if a value ever gets that large.
 */
function parseInt8(value: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n)) {
    throw new RangeError(`int8 value ${value} exceeds Number.MAX_SAFE_INTEGER; read it as text (::text) instead`);
  }
  return n;
}

const pgTypes = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    if (oid === INT8_OID && format !== 'binary') return parseInt8;
    return (pg.types.getTypeParser as (oid: number, format?: string) => (value: string) => unknown)(oid, format);
  },
};

export interface PostgresOptions {
  /** Pool size; default 10. */
  max?: number;
  /** Give up connecting after this long; default 5000. */
  connectionTimeoutMs?: number;
  /** Server-side statement_timeout; default 30000. 0 disables. */
  statementTimeoutMs?: number;
  /** Shown in pg_stat_activity. */
  applicationName?: string;
  /** Called for errors on idle pooled connections (e.g. the server went away). */
  onIdleError?: (error: Error) => void;
}

type PgQueryable = Pick<pg.PoolClient, 'query'>;

function pgQueryable(client: PgQueryable): Queryable {
  return {
    async query<Row>(sql: string, params: readonly unknown[] = []) {
      const result = await client.query(sql, params as unknown[]);
      return { rows: result.rows as Row[], rowCount: result.rowCount ?? result.rows.length };
    },
    async exec(sql: string) {
      // Without parameters pg uses the simple query protocol, which accepts several statements.
      await client.query(sql);
    },
  };
}

/** PostgreSQL through a pg Pool. Connections are made lazily, so this never throws for a down server. */
export function createPostgresDatabase(connectionString: string, options: PostgresOptions = {}): Database {
  if (!/^postgres(ql)?:\/\//.test(connectionString)) {
    throw new TypeError(
      `DATABASE_URL ${JSON.stringify(redactCredentials(connectionString))} is not a postgres:// URL; ` +
        'set it to e.g. postgres://user:password@127.0.0.1:5432/dbname, or unset it to use the embedded PGlite',
    );
  }
  const pool = new pg.Pool({
    connectionString,
    max: options.max ?? 10,
    connectionTimeoutMillis: options.connectionTimeoutMs ?? 5_000,
    idleTimeoutMillis: 30_000,
    statement_timeout: options.statementTimeoutMs ?? 30_000,
    application_name: options.applicationName,
    types: pgTypes,
  });
  // Without a listener an idle connection dropped by the server (restart, failover) emits an
  // unhandled 'error' and kills the process; the pool discards the client and reconnects later.
  pool.on('error', (error) => options.onIdleError?.(error));
  let closed: Promise<void> | undefined;
  const base = pgQueryable(pool);

  return {
    kind: 'postgres',
    ...base,
    async transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
      const client = await pool.connect();
      let broken: Error | undefined;
      // While checked out, a connection the server drops between statements emits 'error' on the
      // client (the pool only listens to idle ones): record it instead of crashing the process.
      const onError = (error: Error) => {
        broken = error;
        options.onIdleError?.(error);
      };
      client.on('error', onError);
      try {
        await client.query('BEGIN');
        const result = await fn(pgQueryable(client));
        await client.query('COMMIT');
        return result;
      } catch (error) {
        try {
          await client.query('ROLLBACK');
        } catch (rollbackError) {
          // The connection is unusable (e.g. server gone): do not hand it back to the pool.
          broken = rollbackError as Error;
        }
        throw error;
      } finally {
        client.off('error', onError);
        client.release(broken);
      }
    },
    async ping() {
      await pool.query('SELECT 1');
    },
    close() {
      closed ??= pool.end();
      return closed;
    },
  };
}

export interface PgliteOptions {
  /** Persist to this directory; default in memory (data is gone when the process exits). */
  dataDir?: string;
}

function pgliteQueryable(db: Pick<PGlite, 'query' | 'exec'>): Queryable {
  return {
    async query<Row>(sql: string, params: readonly unknown[] = []) {
      const result = await db.query<Row>(sql, params as unknown[]);
      return { rows: result.rows, rowCount: Math.max(result.affectedRows ?? 0, result.rows.length) };
    },
    async exec(sql: string) {
      await db.exec(sql);
    },
  };
}

/** Embedded PostgreSQL (PGlite). One connection: statements and transactions run one at a time. */
export async function createPgliteDatabase(options: PgliteOptions = {}): Promise<Database> {
  const db = await PGlite.create(options.dataDir ? { dataDir: options.dataDir } : {});
  let closed: Promise<void> | undefined;
  return {
    kind: 'pglite',
    ...pgliteQueryable(db),
    transaction: (fn) => db.transaction((tx) => fn(pgliteQueryable(tx))),
    async ping() {
      if (db.closed) throw new Error('embedded database (PGlite) is closed');
      await db.query('SELECT 1');
    },
    close() {
      closed ??= db.closed ? Promise.resolve() : db.close();
      return closed;
    },
  };
}

export interface OpenDatabaseOptions extends PostgresOptions {
  /** DATABASE_URL; unset or empty → PGlite. */
  url?: string;
  /** PGLITE_DATA_DIR; only used with PGlite. */
  pgliteDataDir?: string;
}

/** PostgreSQL when a URL is given, else the embedded PGlite: the rule every service follows. */
export async function openDatabase(options: OpenDatabaseOptions): Promise<Database> {
  const { url, pgliteDataDir, ...postgres } = options;
  if (url) return createPostgresDatabase(url, postgres);
  return createPgliteDatabase({ dataDir: pgliteDataDir });
}

/** `postgres://user:pw@host:5432/db` → `postgres host:5432/db` for logs, never the password. */
export function describeDatabase(db: Database, url?: string, pgliteDataDir?: string): string {
  if (db.kind === 'pglite')
    return pgliteDataDir ? `PGlite (embedded) in ${pgliteDataDir}` : 'PGlite (embedded, in memory)';
  if (!url) return 'PostgreSQL';
  const parsed = new URL(url);
  return `PostgreSQL ${parsed.hostname}:${parsed.port || '5432'}${parsed.pathname}`;
}
