import { randomBytes } from 'node:crypto';
import { createPostgresDatabase, isDatabaseError, UNIQUE_VIOLATION, type Database } from './database.js';
import { appliedMigrations, migrationsFrom, runMigrations } from './migrations.js';

/*
 * The pg implementation against the real PostgreSQL in DATABASE_URL (default: the local one). Each
 * run works in its own freshly created database and drops it afterwards.
 */
const adminUrl = process.env['DATABASE_URL'] || 'postgres://postgres:postgres@127.0.0.1:5432/postgres';
const dbName = `servicekit_db_${randomBytes(4).toString('hex')}`;
const testUrl = (() => {
  const url = new URL(adminUrl);
  url.pathname = `/${dbName}`;
  return url.toString();
})();

let admin: Database;
let db: Database;

beforeAll(async () => {
  admin = createPostgresDatabase(adminUrl, { max: 1 });
  await admin.query(`CREATE DATABASE ${dbName}`);
  db = createPostgresDatabase(testUrl, { max: 4, applicationName: 'service-kit-int-spec' });
});

afterAll(async () => {
  await db?.close();
  await admin.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
  await admin.close();
});

describe('PostgreSQL database', () => {
  beforeAll(() =>
    db.exec(`
      CREATE TABLE items (id integer PRIMARY KEY, name text NOT NULL UNIQUE, big bigint);
      INSERT INTO items VALUES (1, 'one', 9007199254740991);
    `),
  );

  it('returns int8 as numbers like PGlite does, and refuses to round unsafe ones', async () => {
    const { rows } = await db.query('SELECT big, count(*) OVER () AS n FROM items WHERE id = $1', [1]);
    expect(rows).toEqual([{ big: 9007199254740991, n: 1 }]);
    await expect(db.query("SELECT '9007199254740993'::bigint AS too_big")).rejects.toThrow(
      /exceeds Number.MAX_SAFE_INTEGER; read it as text/,
    );
  });

  it('reports affected rows', async () => {
    await db.query('INSERT INTO items (id, name) VALUES (10, $1), (11, $2)', ['ten', 'eleven']);
    expect((await db.query('DELETE FROM items WHERE id >= $1', [10])).rowCount).toBe(2);
  });

  it('commits and rolls back transactions on one connection', async () => {
    await db.transaction(async (tx) => {
      await tx.query('INSERT INTO items (id, name) VALUES ($1, $2)', [2, 'two']);
      // visible inside the transaction before commit
      expect((await tx.query('SELECT 1 FROM items WHERE id = 2')).rowCount).toBe(1);
    });
    const error = await db
      .transaction(async (tx) => {
        await tx.query('INSERT INTO items (id, name) VALUES ($1, $2)', [3, 'three']);
        await tx.exec("INSERT INTO items (id, name) VALUES (4, 'one')");
      })
      .catch((e: unknown) => e);
    expect(isDatabaseError(error, UNIQUE_VIOLATION)).toBe(true);
    expect((await db.query('SELECT id FROM items ORDER BY id')).rows).toEqual([{ id: 1 }, { id: 2 }]);
  });

  it('answers ping', async () => {
    await expect(db.ping()).resolves.toBeUndefined();
  });

  it('survives the server dropping a connection in the middle of a transaction', async () => {
    const dropped: Error[] = [];
    const fragile = createPostgresDatabase(testUrl, { max: 1, onIdleError: (error) => dropped.push(error) });
    try {
      const transaction = fragile.transaction(async (tx) => {
        const { rows } = await tx.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
        await admin.query('SELECT pg_terminate_backend($1)', [rows[0].pid]);
        // the termination arrives while no statement runs: an 'error' event, not a query error
        await new Promise((r) => setTimeout(r, 300));
        await tx.query('SELECT 1');
      });
      await expect(transaction).rejects.toThrow();
      expect(dropped.length).toBeGreaterThan(0);
      // the broken connection was discarded, not handed back to the pool
      await expect(fragile.ping()).resolves.toBeUndefined();
    } finally {
      await fragile.close();
    }
  });
});

describe('migrations on PostgreSQL', () => {
  const files = [
    { fileName: '0001_widgets.sql', sql: 'CREATE TABLE widgets (id serial PRIMARY KEY, name text NOT NULL);' },
    { fileName: '0002_seed.sql', sql: "INSERT INTO widgets (name) VALUES ('a'), ('b');" },
  ];

  it('applies once even when several replicas start at the same time', async () => {
    // Separate pools: each runner really is its own connection, as replicas would be.
    const replicas = [0, 1, 2].map(() => createPostgresDatabase(testUrl, { max: 1 }));
    try {
      const reports = await Promise.all(replicas.map((r) => runMigrations(r, migrationsFrom(files))));
      expect(reports.map((r) => r.applied.length).sort()).toEqual([0, 0, 2]);
    } finally {
      await Promise.all(replicas.map((r) => r.close()));
    }
    expect((await db.query('SELECT count(*) AS n FROM widgets')).rows[0]).toEqual({ n: 2 });
    expect((await appliedMigrations(db)).map((m) => m.version)).toEqual([1, 2]);
    expect((await runMigrations(db, migrationsFrom(files))).applied).toEqual([]);
  });
});
