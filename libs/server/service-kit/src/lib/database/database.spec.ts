import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  UNIQUE_VIOLATION,
  createPgliteDatabase,
  createPostgresDatabase,
  describeDatabase,
  isDatabaseError,
  openDatabase,
  type Database,
} from './database.js';

describe('PGlite database', () => {
  let db: Database;

  beforeAll(async () => {
    db = await createPgliteDatabase();
    await db.exec(`
      CREATE TABLE items (id integer PRIMARY KEY, name text NOT NULL UNIQUE, big bigint);
      INSERT INTO items (id, name, big) VALUES (1, 'one', 9007199254740991);
    `);
  });
  afterAll(() => db.close());

  it('runs parameterized queries and returns int8 as numbers', async () => {
    const { rows, rowCount } = await db.query<{ name: string; big: number; n: number }>(
      'SELECT name, big, count(*) OVER () AS n FROM items WHERE id = $1',
      [1],
    );
    expect(db.kind).toBe('pglite');
    expect(rows).toEqual([{ name: 'one', big: 9007199254740991, n: 1 }]);
    expect(rowCount).toBe(1);
  });

  it('treats parameters as values, never as SQL', async () => {
    const { rows } = await db.query('SELECT id FROM items WHERE name = $1', ["one' OR '1'='1"]);
    expect(rows).toEqual([]);
  });

  it('reports affected rows for writes without RETURNING', async () => {
    await db.query('INSERT INTO items (id, name) VALUES (10, $1), (11, $2)', ['ten', 'eleven']);
    const { rowCount } = await db.query('UPDATE items SET big = 0 WHERE id >= $1', [10]);
    expect(rowCount).toBe(2);
    await db.query('DELETE FROM items WHERE id >= 10');
  });

  it('commits a transaction and returns its result', async () => {
    const result = await db.transaction(async (tx) => {
      await tx.query('INSERT INTO items (id, name) VALUES ($1, $2)', [2, 'two']);
      return (await tx.query<{ c: number }>('SELECT count(*) AS c FROM items')).rows[0].c;
    });
    expect(result).toBe(2);
    expect((await db.query('SELECT 1 FROM items WHERE id = 2')).rowCount).toBe(1);
  });

  it('rolls a failed transaction back completely and rethrows the error', async () => {
    const failing = db.transaction(async (tx) => {
      await tx.query('INSERT INTO items (id, name) VALUES ($1, $2)', [3, 'three']);
      await tx.query('INSERT INTO items (id, name) VALUES ($1, $2)', [4, 'one']); // duplicate name
    });
    const error = await failing.catch((e: unknown) => e);
    expect(isDatabaseError(error, UNIQUE_VIOLATION)).toBe(true);
    expect((await db.query('SELECT 1 FROM items WHERE id IN (3, 4)')).rowCount).toBe(0);
  });

  it('runs multi-statement scripts with exec inside a transaction', async () => {
    await db.transaction((tx) => tx.exec('CREATE TABLE t1 (a int); INSERT INTO t1 VALUES (1), (2);'));
    expect((await db.query('SELECT a FROM t1 ORDER BY a')).rows).toEqual([{ a: 1 }, { a: 2 }]);
  });

  it('answers ping', async () => {
    await expect(db.ping()).resolves.toBeUndefined();
  });
});

describe('isDatabaseError', () => {
  it('matches only errors carrying the SQLSTATE', () => {
    expect(isDatabaseError(Object.assign(new Error('dup'), { code: '23505' }), UNIQUE_VIOLATION)).toBe(true);
    expect(isDatabaseError(Object.assign(new Error('fk'), { code: '23503' }), UNIQUE_VIOLATION)).toBe(false);
    expect(isDatabaseError(new Error('plain'), UNIQUE_VIOLATION)).toBe(false);
    expect(isDatabaseError(null, UNIQUE_VIOLATION)).toBe(false);
  });
});

describe('PGlite lifecycle', () => {
  let dir: string;
  beforeEach(async () => (dir = await mkdtemp(join(tmpdir(), 'service-kit-pglite-'))));
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('keeps data in PGLITE_DATA_DIR across restarts', async () => {
    const first = await openDatabase({ pgliteDataDir: dir });
    await first.exec("CREATE TABLE kept (v text); INSERT INTO kept VALUES ('still here');");
    await first.close();
    const second = await openDatabase({ pgliteDataDir: dir });
    try {
      expect((await second.query('SELECT v FROM kept')).rows).toEqual([{ v: 'still here' }]);
      expect(describeDatabase(second, undefined, dir)).toBe(`PGlite (embedded) in ${dir}`);
    } finally {
      await second.close();
    }
  });

  it('closes idempotently and fails ping afterwards', async () => {
    const db = await openDatabase({ url: '' });
    expect(db.kind).toBe('pglite');
    expect(describeDatabase(db)).toBe('PGlite (embedded, in memory)');
    await Promise.all([db.close(), db.close()]);
    await expect(db.ping()).rejects.toThrow(/closed/);
  });
});

/** A port on 127.0.0.1 that nothing listens on: bind an ephemeral port, then release it. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('PostgreSQL database (no server needed)', () => {
  it('rejects a URL that is not postgres:// and hides its password', () => {
    expect(() => createPostgresDatabase('mysql://app:hunter2@db:3306/x')).toThrow(
      /is not a postgres:\/\/ URL; set it to e\.g\. postgres:\/\/.*or unset it to use the embedded PGlite/,
    );
    expect(() => createPostgresDatabase('mysql://app:hunter2@db:3306/x')).not.toThrow(/hunter2/);
  });

  it('connects lazily: creating never throws, ping and transactions fail while the server is down', async () => {
    const port = await closedPort();
    const url = `postgres://postgres:secret@127.0.0.1:${port}/postgres`;
    const db = await openDatabase({ url, connectionTimeoutMs: 1_000, applicationName: 'spec' });
    try {
      expect(db.kind).toBe('postgres');
      expect(describeDatabase(db, url)).toBe(`PostgreSQL 127.0.0.1:${port}/postgres`);
      expect(describeDatabase(db)).toBe('PostgreSQL');
      await expect(db.ping()).rejects.toThrow(/ECONNREFUSED|connect/);
      await expect(db.transaction(async () => 1)).rejects.toThrow(/ECONNREFUSED|connect/);
    } finally {
      await Promise.all([db.close(), db.close()]);
    }
  });
});
