import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { Redis } from 'ioredis';
import { contractViolations, ErrorBody, Product, ProductListResponse } from '@slipway/contracts';
import { appliedMigrations, checksumOf, createPostgresDatabase, type Database } from '@slipway/service-kit/database';
import { TEST_API_KEY, testConfig } from '../test-support/catalog-env.js';
import {
  createTestDatabase,
  SHARED_REDIS_URL,
  startPrivatePostgres,
  type PrivatePostgres,
  type TestDatabase,
} from '@slipway/service-kit/testing';
import { buildApp, defaultMigrationsDir, MIGRATIONS_TABLE, type CatalogApp } from './app.js';
import { SAMPLE_PRODUCTS } from './sample-products.js';

/*
 * The catalog against real PostgreSQL and Redis (DATABASE_URL / REDIS_URL, defaulting to the local
 * servers). Every run works in its own database and Redis key prefix and removes them afterwards.
 */
const quiet = { logger: false } as const;
let testDb: TestDatabase;

beforeAll(async () => {
  testDb = await createTestDatabase('catalog_it');
});
afterAll(async () => {
  await testDb?.drop();
});

describe('migrations on PostgreSQL', () => {
  it('apply on a fresh database, are recorded with checksums, and re-apply as a no-op', async () => {
    const first = await buildApp(testConfig({ DATABASE_URL: testDb.url }), {
      service: quiet,
    });
    let recordedAt: Date[];
    try {
      const recorded = await appliedMigrations(first.database, MIGRATIONS_TABLE);
      expect(recorded.map((m) => [m.version, m.name])).toEqual([
        [1, 'create_products'],
        [2, 'unique_sku_ignoring_case'],
      ]);
      const dir = defaultMigrationsDir();
      expect(recorded[0].checksum).toBe(checksumOf(readFileSync(join(dir, '0001_create_products.sql'), 'utf8')));
      recordedAt = recorded.map((m) => m.appliedAt);
      const { rows } = await first.database.query<{ n: number }>('SELECT count(*) AS n FROM products');
      expect(rows[0].n).toBe(SAMPLE_PRODUCTS.length);
    } finally {
      await first.service.shutdown();
    }

    const restarted = await buildApp(testConfig({ DATABASE_URL: testDb.url }), {
      service: quiet,
    });
    try {
      const recorded = await appliedMigrations(restarted.database, MIGRATIONS_TABLE);
      expect(recorded.map((m) => m.appliedAt)).toEqual(recordedAt);
      const { rows } = await restarted.database.query<{ n: number }>('SELECT count(*) AS n FROM products');
      expect(rows[0].n).toBe(SAMPLE_PRODUCTS.length);
    } finally {
      await restarted.service.shutdown();
    }
  });
});

describe('products on PostgreSQL', () => {
  let catalog: CatalogApp;
  beforeAll(async () => {
    catalog = await buildApp(testConfig({ DATABASE_URL: testDb.url }), {
      service: quiet,
    });
  });
  afterAll(() => catalog.service.shutdown());

  it('creates, searches, pages and refuses a duplicate sku', async () => {
    const created = await catalog.service.app.inject({
      method: 'POST',
      url: '/products',
      headers: { 'x-api-key': TEST_API_KEY },
      payload: {
        sku: 'PG-LAMP',
        name: 'Lamp 100% brass',
        priceCents: 12_000,
        currency: 'USD',
        stock: 2,
      },
    });
    expect(created.statusCode).toBe(201);
    expect(contractViolations(Product, created.json())).toEqual([]);

    const found = (await catalog.service.app.inject('/products?q=100%25')).json() as ProductListResponse;
    expect(found.items.map((p) => p.sku)).toEqual(['PG-LAMP']);
    const page = (await catalog.service.app.inject('/products?limit=3&offset=3')).json() as ProductListResponse;
    expect(page).toMatchObject({
      total: SAMPLE_PRODUCTS.length + 1,
      limit: 3,
      offset: 3,
    });
    expect(page.items).toHaveLength(3);

    const duplicate = await catalog.service.app.inject({
      method: 'POST',
      url: '/products',
      headers: { 'x-api-key': TEST_API_KEY },
      payload: {
        sku: 'pg-lamp',
        name: 'Other',
        priceCents: 1,
        currency: 'USD',
        stock: 1,
      },
    });
    expect(duplicate.statusCode).toBe(409);
  });
});

describe('rate limiting with the shared Redis store', () => {
  const keyPrefix = `slipway:it:catalog:${randomBytes(4).toString('hex')}:`;
  const redis = new Redis(SHARED_REDIS_URL, {
    lazyConnect: true,
    maxRetriesPerRequest: 1,
  });
  afterAll(async () => {
    const keys = await redis.keys(`${keyPrefix}*`);
    if (keys.length > 0) await redis.del(...keys);
    redis.disconnect();
  });

  it('answers 429 once the replicas together exceed RATE_LIMIT_MAX', async () => {
    const config = testConfig({
      DATABASE_URL: testDb.url,
      REDIS_URL: SHARED_REDIS_URL,
      RATE_LIMIT_MAX: '5',
      RATE_LIMIT_WINDOW_MS: '60s',
    });
    const replicaA = await buildApp(config, {
      service: {
        ...quiet,
        rateLimit: { max: 5, timeWindowMs: 60_000, keyPrefix },
      },
    });
    const replicaB = await buildApp(config, {
      service: {
        ...quiet,
        rateLimit: { max: 5, timeWindowMs: 60_000, keyPrefix },
      },
    });
    try {
      const statuses: number[] = [];
      for (const replica of [replicaA, replicaA, replicaA, replicaB, replicaB, replicaB, replicaA]) {
        statuses.push((await replica.service.app.inject('/products?limit=1')).statusCode);
      }
      expect(statuses).toEqual([200, 200, 200, 200, 200, 429, 429]);
      const limited = await replicaB.service.app.inject('/products?limit=1');
      expect(contractViolations(ErrorBody, limited.json())).toEqual([]);
      expect(limited.headers['retry-after']).toBeDefined();
      // probes are never rate limited: an orchestrator must always see the truth
      expect((await replicaA.service.app.inject('/health/readiness')).statusCode).toBe(200);
      await redis.connect();
      expect((await redis.keys(`${keyPrefix}*`)).length).toBeGreaterThan(0);
    } finally {
      await Promise.all([replicaA.service.shutdown(), replicaB.service.shutdown()]);
    }
  });
});

describe('readiness follows the database', () => {
  let privatePg: PrivatePostgres;
  let catalog: CatalogApp;
  beforeAll(async () => {
    privatePg = await startPrivatePostgres([3300, 3399]);
    catalog = await buildApp(testConfig({ DATABASE_URL: privatePg.url }), {
      service: quiet,
    });
  }, 180_000);
  afterAll(async () => {
    await catalog?.service.shutdown();
    privatePg?.destroy();
  });

  async function readiness() {
    const res = await catalog.service.app.inject('/health/readiness');
    return {
      status: res.statusCode,
      body: res.json() as { status: string; failing?: string[] },
    };
  }

  async function waitForReadiness(status: number, timeoutMs: number) {
    const deadline = Date.now() + timeoutMs;
    let last = await readiness();
    while (last.status !== status && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 250));
      last = await readiness();
    }
    return last;
  }

  it('is 200 while PostgreSQL runs, 503 naming db when it stops, and 200 again when it is back', async () => {
    expect((await readiness()).status).toBe(200);
    privatePg.stop();
    const down = await waitForReadiness(503, 15_000);
    expect(down.status).toBe(503);
    expect(down.body).toMatchObject({ status: 'not-ready', failing: ['db'] });
    expect((await catalog.service.app.inject('/health/liveness')).statusCode).toBe(200);
    privatePg.start();
    expect((await waitForReadiness(200, 30_000)).status).toBe(200);
    expect((await catalog.service.app.inject('/products?limit=1')).statusCode).toBe(200);
  });
});

describe('SIGTERM on the built service', () => {
  const main = resolve(__dirname, '../../dist/main.js');
  // Also killed here: if Jest gives up on the test (timeout), its finally block never runs.
  const spawned: ChildProcess[] = [];
  afterAll(() => {
    for (const child of spawned) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });

  it('finishes in-flight requests, then exits 0 within the bound', async () => {
    expect(existsSync(main)).toBe(true); // catalog:integration depends on catalog:build
    const child = spawn(process.execPath, [main], {
      env: {
        PATH: process.env['PATH'] ?? '',
        PORT: '0',
        HOST: '127.0.0.1',
        DATABASE_URL: testDb.url,
        SHUTDOWN_TIMEOUT_MS: '20s',
        RATE_LIMIT_MAX: '1000',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    spawned.push(child);
    const exited = new Promise<{ code: number | null; at: number }>((r) =>
      child.once('exit', (code) => r({ code, at: Date.now() })),
    );
    const killer = setTimeout(() => child.kill('SIGKILL'), 90_000);
    let blocker: Database | undefined;
    try {
      const url = await new Promise<string>((resolveUrl, reject) => {
        createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (line) => {
          const entry = JSON.parse(line) as { url?: string; msg?: string };
          if (entry.url && entry.msg?.startsWith('catalog listening on')) resolveUrl(entry.url);
        });
        void exited.then(({ code }) => reject(new Error(`catalog exited with ${code} before listening`)));
      });

      // Hold a lock the list query needs, so requests are provably in flight when SIGTERM lands.
      // Two connections: one holds the lock in a transaction, the other watches pg_stat_activity.
      blocker = createPostgresDatabase(testDb.url, { max: 2 });
      let release!: () => void;
      const released = new Promise<void>((r) => (release = r));
      const lockHeld = new Promise<void>((lockAcquired) => {
        void blocker?.transaction(async (tx) => {
          await tx.query('LOCK TABLE products IN ACCESS EXCLUSIVE MODE');
          lockAcquired();
          await released;
        });
      });
      await lockHeld;
      const inFlight = Array.from({ length: 8 }, (_, i) => fetch(`${url}/products?limit=2&offset=${i}`));
      const waiting = async () =>
        (
          await blocker?.query<{ n: number }>(
            "SELECT count(*) AS n FROM pg_stat_activity WHERE datname = $1 AND wait_event_type = 'Lock'",
            [testDb.name],
          )
        )?.rows[0].n ?? 0;
      // All eight handlers are blocked in the database: in flight for the server, not merely sent.
      for (let i = 0; i < 400 && (await waiting()) < 8; i++) await new Promise((r) => setTimeout(r, 50));
      expect(await waiting()).toBe(8);

      process.kill(child.pid as number, 'SIGTERM');
      const signalledAt = Date.now();
      await new Promise((r) => setTimeout(r, 500));
      release();
      const responses = await Promise.all(inFlight);
      expect(responses.map((r) => r.status)).toEqual(Array(8).fill(200));
      const { code, at } = await exited;
      expect(code).toBe(0);
      expect(at - signalledAt).toBeLessThan(20_000);
    } finally {
      clearTimeout(killer);
      await blocker?.close();
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
  });
});
