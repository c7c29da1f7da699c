import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createPgliteDatabase, type Database } from './database.js';
import {
  MigrationError,
  appliedMigrations,
  checksumOf,
  loadMigrations,
  migrationsFrom,
  runMigrations,
  type MigrationLogger,
} from './migrations.js';

const v1 = {
  fileName: '0001_create_widgets.sql',
  sql: 'CREATE TABLE widgets (id integer PRIMARY KEY, name text NOT NULL);',
};
const v2 = {
  fileName: '0002_add_colour.sql',
  sql: "ALTER TABLE widgets ADD COLUMN colour text NOT NULL DEFAULT 'red';",
};
const v10 = {
  fileName: '0010_seed.sql',
  sql: "INSERT INTO widgets (id, name) VALUES (1, 'first'); INSERT INTO widgets (id, name) VALUES (2, 'second');",
};

function recordingLogger() {
  const lines: { level: string; obj: object; msg: string }[] = [];
  const logger: MigrationLogger = {
    info: (obj, msg) => lines.push({ level: 'info', obj, msg }),
    warn: (obj, msg) => lines.push({ level: 'warn', obj, msg }),
  };
  return { logger, lines };
}

describe('migrationsFrom', () => {
  it('orders by numeric version, not by file name', () => {
    const migrations = migrationsFrom([v10, v2, v1]);
    expect(migrations.map((m) => [m.version, m.name])).toEqual([
      [1, 'create_widgets'],
      [2, 'add_colour'],
      [10, 'seed'],
    ]);
    expect(migrations[0].checksum).toBe(checksumOf(v1.sql));
  });

  it('lists every bad file with the fix in one error', () => {
    let error: unknown;
    try {
      migrationsFrom(
        [
          v1,
          { fileName: '1_duplicate.sql', sql: 'SELECT 1;' },
          { fileName: 'create_things.sql', sql: 'SELECT 1;' },
          { fileName: '0003_Upper.sql', sql: 'SELECT 1;' },
          { fileName: '0004_empty.sql', sql: '  \n' },
        ],
        'apps/x/migrations',
      );
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(MigrationError);
    const message = (error as Error).message;
    expect(message).toContain('invalid migrations in apps/x/migrations');
    expect(message).toContain('1_duplicate.sql: version 1 is also used by 0001_create_widgets.sql');
    expect(message).toContain('create_things.sql: name must be <version>_<name>.sql');
    expect(message).toContain('0003_Upper.sql: name must be');
    expect(message).toContain('0004_empty.sql: file is empty');
  });
});

describe('loadMigrations', () => {
  let dir: string;
  beforeEach(async () => (dir = await mkdtemp(join(tmpdir(), 'service-kit-migrations-'))));
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('reads the *.sql files of a directory and ignores the rest', async () => {
    await writeFile(join(dir, v2.fileName), v2.sql);
    await writeFile(join(dir, v1.fileName), v1.sql);
    await writeFile(join(dir, 'README.md'), '# notes');
    const migrations = await loadMigrations(dir);
    expect(migrations.map((m) => m.version)).toEqual([1, 2]);
    expect(migrations[1].sql).toBe(v2.sql);
  });

  it('fails clearly on a missing or empty directory', async () => {
    await expect(loadMigrations(join(dir, 'nope'))).rejects.toThrow(/cannot read the migrations directory .*nope/);
    await expect(loadMigrations(dir)).rejects.toThrow(`no *.sql migrations found in ${dir}`);
  });
});

describe('runMigrations (PGlite)', () => {
  let db: Database;
  // One embedded database for the suite (starting PGlite costs about a second); each test starts
  // from an empty schema.
  beforeAll(async () => (db = await createPgliteDatabase()));
  afterAll(() => db.close());
  beforeEach(() => db.exec('DROP SCHEMA public CASCADE; CREATE SCHEMA public;'));

  it('applies pending migrations in order and records them', async () => {
    const { logger, lines } = recordingLogger();
    const report = await runMigrations(db, migrationsFrom([v10, v1, v2]), { logger });
    expect(report.applied.map((m) => m.version)).toEqual([1, 2, 10]);
    expect(report.alreadyApplied).toEqual([]);
    expect(lines.filter((l) => l.msg === 'migration applied').map((l) => l.obj)).toEqual([
      { migration: '1_create_widgets' },
      { migration: '2_add_colour' },
      { migration: '10_seed' },
    ]);
    expect((await db.query('SELECT name, colour FROM widgets ORDER BY id')).rows).toEqual([
      { name: 'first', colour: 'red' },
      { name: 'second', colour: 'red' },
    ]);
    const recorded = await appliedMigrations(db);
    expect(recorded.map((m) => [m.version, m.name, m.checksum])).toEqual([
      [1, 'create_widgets', checksumOf(v1.sql)],
      [2, 'add_colour', checksumOf(v2.sql)],
      [10, 'seed', checksumOf(v10.sql)],
    ]);
    expect(recorded[0].appliedAt).toBeInstanceOf(Date);
  });

  it('is a no-op when run again, and applies only what is new', async () => {
    await runMigrations(db, migrationsFrom([v1]));
    const again = await runMigrations(db, migrationsFrom([v1]));
    expect(again.applied).toEqual([]);
    expect(again.alreadyApplied).toEqual([1]);
    const next = await runMigrations(db, migrationsFrom([v1, v2]));
    expect(next.applied.map((m) => m.version)).toEqual([2]);
    expect((await appliedMigrations(db)).map((m) => m.version)).toEqual([1, 2]);
  });

  it('rolls back every pending migration when one fails and names it', async () => {
    const broken = { fileName: '0003_broken.sql', sql: 'ALTER TABLE no_such_table ADD COLUMN x int;' };
    await expect(runMigrations(db, migrationsFrom([v1, v2, broken]))).rejects.toThrow(
      /migration 3_broken failed, nothing was applied: .*no_such_table/,
    );
    expect(await appliedMigrations(db)).toEqual([]);
    expect((await db.query("SELECT to_regclass('widgets') AS t")).rows[0]).toEqual({ t: null });
  });

  it('refuses to start when an applied migration was edited', async () => {
    await runMigrations(db, migrationsFrom([v1, v2]));
    const edited = { ...v2, sql: "ALTER TABLE widgets ADD COLUMN colour text NOT NULL DEFAULT 'blue';" };
    await expect(runMigrations(db, migrationsFrom([v1, edited, v10]))).rejects.toThrow(
      'applied migration was edited since: 0002_add_colour. Restore the original file and put the change in a new migration',
    );
    // nothing after the refusal was applied
    expect((await appliedMigrations(db)).map((m) => m.version)).toEqual([1, 2]);
  });

  it('starts against a database that is ahead (rollback) and warns', async () => {
    await runMigrations(db, migrationsFrom([v1, v2]));
    const { logger, lines } = recordingLogger();
    const report = await runMigrations(db, migrationsFrom([v1]), { logger });
    expect(report.unknown).toEqual([2]);
    expect(lines).toContainEqual(expect.objectContaining({ level: 'warn', obj: { unknownMigrationVersions: [2] } }));
  });

  it('serialises concurrent runners so each migration is applied once', async () => {
    const migrations = migrationsFrom([v1, v2, v10]);
    const reports = await Promise.all([runMigrations(db, migrations), runMigrations(db, migrations)]);
    expect(reports.map((r) => r.applied.length).sort()).toEqual([0, 3]);
    expect((await db.query('SELECT count(*) AS n FROM widgets')).rows[0]).toEqual({ n: 2 });
  });

  it('supports a custom table name and rejects unsafe ones', async () => {
    await runMigrations(db, migrationsFrom([v1]), { table: 'catalog_migrations' });
    expect((await appliedMigrations(db, 'catalog_migrations')).map((m) => m.version)).toEqual([1]);
    expect(await appliedMigrations(db)).toEqual([]);
    await expect(runMigrations(db, migrationsFrom([v1]), { table: 'x; DROP TABLE widgets' })).rejects.toThrow(
      /not a plain lower-case SQL identifier/,
    );
    await expect(appliedMigrations(db, 'Bad-Name')).rejects.toThrow(/is invalid/);
  });
});
