import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { Redis } from 'ioredis';
import { contractViolations, ErrorBody, Order, type OrderCreateBody } from '@slipway/contracts';
import { appliedMigrations, createPostgresDatabase, type Database } from '@slipway/service-kit/database';
import { product, startFakeCatalog, type FakeCatalog } from '../test-support/fake-catalog.js';
import { testConfig } from '../test-support/orders-env.js';
import {
  createTestDatabase,
  SHARED_REDIS_URL,
  startPrivatePostgres,
  type PrivatePostgres,
  type TestDatabase,
} from '@slipway/service-kit/testing';
import { buildApp, MIGRATIONS_TABLE, type OrdersApp } from './app.js';
import { IdempotencyClaimLostError, IdempotencyStoreUnavailableError } from './idempotency.js';
import { RedisIdempotencyStore } from './redis-idempotency-store.js';

/*
 * Orders against real PostgreSQL and Redis (DATABASE_URL / REDIS_URL, defaulting to the local
 * servers), with a stand-in catalog over HTTP. Each run uses its own database and Redis prefix.
 */
const quiet = { logger: false } as const;
const runId = randomBytes(4).toString('hex');
const redisPrefix = `slipway:it:orders:${runId}:`;
const mug = product({
  id: '11111111-1111-4111-8111-111111111111',
  sku: 'MUG-001',
  priceCents: 1290,
  stock: 1000,
});

let testDb: TestDatabase;
let catalog: FakeCatalog;
let db: Database;
const redis = new Redis(SHARED_REDIS_URL, { maxRetriesPerRequest: 1 });

beforeAll(async () => {
  testDb = await createTestDatabase('orders_it');
  db = createPostgresDatabase(testDb.url, { max: 2 });
  catalog = await startFakeCatalog([mug]);
});
afterAll(async () => {
  await db?.close();
  await catalog?.close();
  await testDb?.drop();
  const keys = await redis.keys(`${redisPrefix}*`);
  if (keys.length > 0) await redis.del(...keys);
  redis.disconnect();
});

const orderBody: OrderCreateBody = {
  customerEmail: 'ada@example.com',
  items: [{ productId: mug.id, quantity: 2 }],
};
const orderCount = async () => (await db.query<{ n: number }>('SELECT count(*) AS n FROM orders')).rows[0].n;

describe('migrations on PostgreSQL', () => {
  it('apply on a fresh database, are recorded, and re-apply as a no-op', async () => {
    const first = await buildApp(testConfig({ DATABASE_URL: testDb.url, CATALOG_URL: catalog.url }), {
      service: quiet,
    });
    const recorded = await appliedMigrations(first.database, MIGRATIONS_TABLE);
    await first.service.shutdown();
    expect(recorded.map((m) => `${m.version}_${m.name}`)).toEqual(['1_create_orders', '2_create_idempotency_keys']);
    const second = await buildApp(testConfig({ DATABASE_URL: testDb.url, CATALOG_URL: catalog.url }), {
      service: quiet,
    });
    try {
      expect(await appliedMigrations(second.database, MIGRATIONS_TABLE)).toEqual(recorded);
    } finally {
      await second.service.shutdown();
    }
  });
});

describe('20 concurrent identical requests with one Idempotency-Key create exactly one order', () => {
  async function fireTwenty(app: OrdersApp, key: string) {
    const url = await app.service.listen();
    const responses = await Promise.all(
      Array.from({ length: 20 }, () =>
        fetch(`${url}/orders`, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            'idempotency-key': key,
          },
          body: JSON.stringify(orderBody),
        }),
      ),
    );
    return Promise.all(
      responses.map(async (r) => ({
        status: r.status,
        replayed: r.headers.get('idempotent-replayed'),
        body: (await r.json()) as Order,
      })),
    );
  }

  function expectOneOrder(results: Awaited<ReturnType<typeof fireTwenty>>) {
    expect(results.map((r) => r.status)).toEqual(Array(20).fill(201));
    expect(new Set(results.map((r) => r.body.id)).size).toBe(1);
    expect(results.filter((r) => r.replayed === 'true')).toHaveLength(19);
    expect(contractViolations(Order, results[0].body)).toEqual([]);
  }

  beforeEach(() => {
    // slow enough that all twenty arrive while the first is still pricing the order
    catalog.mode = { kind: 'ok', delayMs: 300 };
  });

  it('with the Redis store (REDIS_URL set)', async () => {
    const app = await buildApp(
      testConfig({
        DATABASE_URL: testDb.url,
        CATALOG_URL: catalog.url,
        REDIS_URL: SHARED_REDIS_URL,
      }),
      { service: quiet, idempotencyKeyPrefix: `${redisPrefix}idem:` },
    );
    try {
      expect(app.idempotency.kind).toBe('redis');
      const before = await orderCount();
      expectOneOrder(await fireTwenty(app, `redis-${runId}`));
      expect(await orderCount()).toBe(before + 1);
      expect(await redis.keys(`${redisPrefix}idem:*`)).toHaveLength(1);
    } finally {
      await app.service.shutdown();
    }
  });

  it('with the PostgreSQL store (REDIS_URL unset)', async () => {
    const app = await buildApp(testConfig({ DATABASE_URL: testDb.url, CATALOG_URL: catalog.url }), { service: quiet });
    try {
      expect(app.idempotency.kind).toBe('postgres');
      const before = await orderCount();
      expectOneOrder(await fireTwenty(app, `pg-${runId}`));
      expect(await orderCount()).toBe(before + 1);
      const { rows } = await db.query<{ state: string }>('SELECT state FROM idempotency_keys WHERE key = $1', [
        `pg-${runId}`,
      ]);
      expect(rows).toEqual([{ state: 'completed' }]);
    } finally {
      await app.service.shutdown();
    }
  });
});

describe('Redis Idempotency-Key store', () => {
  const timings = { lockMs: 60_000, ttlMs: 60_000 };
  const store = new RedisIdempotencyStore(redis, timings, `${redisPrefix}store:`);
  const response = {
    statusCode: 201,
    body: { id: 'o1', totalCents: 500_000_000_000 },
  };

  it('claims once, shows the claim in progress, then replays the completed response', async () => {
    const claim = await store.claim('a', 'fp');
    expect(claim.kind).toBe('claimed');
    expect(await store.claim('a', 'fp')).toEqual({
      kind: 'in-progress',
      fingerprint: 'fp',
    });
    await store.complete('a', (claim as { token: string }).token, response);
    expect(await store.claim('a', 'fp')).toEqual({
      kind: 'completed',
      fingerprint: 'fp',
      response,
    });
    const ttl = await redis.pttl(`${redisPrefix}store:${createHash('sha256').update('a').digest('hex')}`);
    expect(ttl).toBeGreaterThan(50_000);
  });

  it('lets only the holder complete or release', async () => {
    const claim = (await store.claim('b', 'fp')) as { token: string };
    await expect(store.complete('b', 'not-the-holder', response)).rejects.toBeInstanceOf(IdempotencyClaimLostError);
    await store.release('b', 'not-the-holder');
    expect((await store.claim('b', 'fp')).kind).toBe('in-progress');
    await store.release('b', claim.token);
    expect((await store.claim('b', 'fp')).kind).toBe('claimed');
  });

  it('frees the key of a crashed holder when its lease expires', async () => {
    const shortLease = new RedisIdempotencyStore(redis, { lockMs: 100, ttlMs: 60_000 }, `${redisPrefix}store:`);
    const crashed = (await shortLease.claim('c', 'fp')) as { token: string };
    await new Promise((r) => setTimeout(r, 250));
    expect((await shortLease.claim('c', 'fp')).kind).toBe('claimed');
    await expect(shortLease.complete('c', crashed.token, response)).rejects.toBeInstanceOf(IdempotencyClaimLostError);
  });

  it('reports an unreachable Redis as IdempotencyStoreUnavailableError', async () => {
    const offline = new Redis('redis://127.0.0.1:1', {
      lazyConnect: true,
      maxRetriesPerRequest: 0,
      enableOfflineQueue: false,
      retryStrategy: () => null,
    });
    offline.on('error', () => undefined);
    const down = new RedisIdempotencyStore(offline, timings);
    try {
      await expect(down.claim('d', 'fp')).rejects.toBeInstanceOf(IdempotencyStoreUnavailableError);
      await expect(down.release('d', 't')).rejects.toBeInstanceOf(IdempotencyStoreUnavailableError);
      await expect(down.complete('d', 't', response)).rejects.toBeInstanceOf(IdempotencyStoreUnavailableError);
    } finally {
      offline.disconnect();
    }
  });

  it('refuses a reused key with another body over HTTP (422)', async () => {
    catalog.mode = { kind: 'ok' };
    const app = await buildApp(
      testConfig({
        DATABASE_URL: testDb.url,
        CATALOG_URL: catalog.url,
        REDIS_URL: SHARED_REDIS_URL,
      }),
      { service: quiet, idempotencyKeyPrefix: `${redisPrefix}idem:` },
    );
    try {
      const send = (payload: OrderCreateBody) =>
        app.service.app.inject({
          method: 'POST',
          url: '/orders',
          payload,
          headers: { 'idempotency-key': `reuse-${runId}` },
        });
      expect((await send(orderBody)).statusCode).toBe(201);
      const other = await send({
        ...orderBody,
        customerEmail: 'grace@example.com',
      });
      expect(other.statusCode).toBe(422);
      expect(contractViolations(ErrorBody, other.json())).toEqual([]);
    } finally {
      await app.service.shutdown();
    }
  });
});

describe('rate limiting with the shared Redis store', () => {
  it('answers 429 once RATE_LIMIT_MAX is used up, but never on probes', async () => {
    const app = await buildApp(
      testConfig({
        DATABASE_URL: testDb.url,
        CATALOG_URL: catalog.url,
        REDIS_URL: SHARED_REDIS_URL,
      }),
      {
        service: {
          ...quiet,
          rateLimit: {
            max: 3,
            timeWindowMs: 60_000,
            keyPrefix: `${redisPrefix}rl:`,
          },
        },
      },
    );
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 5; i++) statuses.push((await app.service.app.inject('/orders?limit=1')).statusCode);
      expect(statuses).toEqual([200, 200, 200, 429, 429]);
      expect((await app.service.app.inject('/health/readiness')).statusCode).toBe(200);
      expect((await redis.keys(`${redisPrefix}rl:*`)).length).toBeGreaterThan(0);
    } finally {
      await app.service.shutdown();
    }
  });
});

describe('readiness follows the database', () => {
  let privatePg: PrivatePostgres;
  let app: OrdersApp;
  beforeAll(async () => {
    privatePg = await startPrivatePostgres([3300, 3399]);
    app = await buildApp(testConfig({ DATABASE_URL: privatePg.url, CATALOG_URL: catalog.url }), { service: quiet });
  }, 180_000);
  afterAll(async () => {
    await app?.service.shutdown();
    privatePg?.destroy();
  });

  async function waitForReadiness(status: number, timeoutMs: number) {
    const deadline = Date.now() + timeoutMs;
    let res = await app.service.app.inject('/health/readiness');
    while (res.statusCode !== status && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 250));
      res = await app.service.app.inject('/health/readiness');
    }
    return res;
  }

  it('is 200 while PostgreSQL runs, 503 naming db when it stops, and 200 again when it is back', async () => {
    expect((await app.service.app.inject('/health/readiness')).statusCode).toBe(200);
    privatePg.stop();
    const down = await waitForReadiness(503, 15_000);
    expect(down.statusCode).toBe(503);
    expect(down.json()).toMatchObject({ status: 'not-ready', failing: ['db'] });
    privatePg.start();
    expect((await waitForReadiness(200, 30_000)).statusCode).toBe(200);
    catalog.mode = { kind: 'ok' };
    expect(
      (
        await app.service.app.inject({
          method: 'POST',
          url: '/orders',
          payload: orderBody,
        })
      ).statusCode,
    ).toBe(201);
  });
});

describe('SIGTERM on the built service', () => {
  const main = resolve(__dirname, '../../dist/main.js');
  // Also killed here: if Jest gives up on the test (timeout), its finally block never runs.
  const spawned: ChildProcess[] = [];
  afterAll(() => {
    for (const child of spawned) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });

  it('finishes in-flight orders, then exits 0 within the bound', async () => {
    expect(existsSync(main)).toBe(true); // orders:integration depends on orders:build
    catalog.mode = { kind: 'ok', delayMs: 1_500 };
    catalog.requests.length = 0;
    const child = spawn(process.execPath, [main], {
      env: {
        PATH: process.env['PATH'] ?? '',
        PORT: '0',
        HOST: '127.0.0.1',
        DATABASE_URL: testDb.url,
        CATALOG_URL: catalog.url,
        CATALOG_TIMEOUT_MS: '10s',
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
    try {
      const url = await new Promise<string>((resolveUrl, reject) => {
        createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (line) => {
          const entry = JSON.parse(line) as { url?: string; msg?: string };
          if (entry.url && entry.msg?.startsWith('orders listening on')) resolveUrl(entry.url);
        });
        void exited.then(({ code }) => reject(new Error(`orders exited with ${code} before listening`)));
      });
      const before = await orderCount();
      const inFlight = Array.from({ length: 10 }, () =>
        fetch(`${url}/orders`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(orderBody),
        }),
      );
      // every order is waiting on the (slow) catalog when the signal arrives
      for (let i = 0; i < 200 && catalog.requests.length < 10; i++) await new Promise((r) => setTimeout(r, 25));
      expect(catalog.requests.length).toBe(10);
      process.kill(child.pid as number, 'SIGTERM');
      const signalledAt = Date.now();
      const responses = await Promise.all(inFlight);
      expect(responses.map((r) => r.status)).toEqual(Array(10).fill(201));
      const { code, at } = await exited;
      expect(code).toBe(0);
      expect(at - signalledAt).toBeLessThan(20_000);
      expect(await orderCount()).toBe(before + 10);
    } finally {
      clearTimeout(killer);
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
  });
});
