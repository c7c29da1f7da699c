import { createServer, type AddressInfo } from 'node:net';
import { contractViolations, ErrorBody, Order, OrderListResponse, type OrderCreateBody } from '@slipway/contracts';
import { appliedMigrations, createPgliteDatabase, type Database } from '@slipway/service-kit/database';
import { product, startFakeCatalog, type FakeCatalog } from '../test-support/fake-catalog.js';
import { testConfig } from '../test-support/orders-env.js';
import { buildApp, defaultMigrationsDir, MIGRATIONS_TABLE, type OrdersApp } from './app.js';
import {
  IdempotencyStoreUnavailableError,
  PostgresIdempotencyStore,
  requestFingerprint,
  type IdempotencyStore,
} from './idempotency.js';

const quiet = { logger: false } as const;
const mug = product({
  id: '11111111-1111-4111-8111-111111111111',
  sku: 'MUG-001',
  name: 'Mug',
  priceCents: 1290,
  stock: 5,
});
const tee = product({
  id: '22222222-2222-4222-8222-222222222222',
  sku: 'TEE-M',
  name: 'T-shirt',
  priceCents: 2500,
  stock: 40,
});
const poster = product({
  id: '33333333-3333-4333-8333-333333333333',
  sku: 'POSTER',
  priceCents: 3500,
  currency: 'USD',
});
const unknownId = '99999999-9999-4999-8999-999999999999';

let db: Database;
let catalog: FakeCatalog;
let orders: OrdersApp;

beforeAll(async () => {
  db = await createPgliteDatabase();
  catalog = await startFakeCatalog([mug, tee, poster]);
  orders = await buildApp(testConfig({ CATALOG_URL: catalog.url }), {
    database: db,
    service: quiet,
  });
});
afterAll(async () => {
  await orders.service.shutdown();
  await catalog.close();
  await db.close();
});
beforeEach(async () => {
  catalog.mode = { kind: 'ok' };
  catalog.requests.length = 0;
  await db.exec('TRUNCATE orders, order_items, idempotency_keys');
});

const body = (items: OrderCreateBody['items'], customerEmail = 'ada@example.com'): OrderCreateBody => ({
  customerEmail,
  items,
});
const post = (payload: unknown, headers: Record<string, string> = {}) =>
  orders.service.app.inject({
    method: 'POST',
    url: '/orders',
    payload: payload as object,
    headers,
  });
const orderCount = async () => (await db.query<{ n: number }>('SELECT count(*) AS n FROM orders')).rows[0].n;

function expectContract(schema: Parameters<typeof contractViolations>[0], value: unknown) {
  expect(contractViolations(schema, value)).toEqual([]);
}

describe('POST /orders', () => {
  it('prices the items with the catalog and stores the order', async () => {
    const res = await post(
      body([
        { productId: mug.id, quantity: 2 },
        { productId: tee.id, quantity: 1 },
      ]),
    );
    expect(res.statusCode).toBe(201);
    const order = res.json() as Order;
    expectContract(Order, order);
    expect(order).toMatchObject({
      customerEmail: 'ada@example.com',
      status: 'confirmed',
      currency: 'EUR',
      totalCents: 2 * 1290 + 2500,
      items: [
        {
          productId: mug.id,
          sku: 'MUG-001',
          name: 'Mug',
          quantity: 2,
          unitPriceCents: 1290,
          lineTotalCents: 2580,
        },
        {
          productId: tee.id,
          sku: 'TEE-M',
          name: 'T-shirt',
          quantity: 1,
          unitPriceCents: 2500,
          lineTotalCents: 2500,
        },
      ],
    });
    expect(res.headers['location']).toBe(`/orders/${order.id}`);
    expect(catalog.requests.sort()).toEqual([`/products/${mug.id}`, `/products/${tee.id}`]);
    expect((await orders.service.app.inject(`/orders/${order.id}`)).json()).toEqual(order);
  });

  it('answers 400 with every invalid field named', async () => {
    const res = await post({
      customerEmail: 'not-an-email',
      items: [{ productId: 'x', quantity: 0 }],
    });
    expect(res.statusCode).toBe(400);
    const error = res.json() as ErrorBody;
    expectContract(ErrorBody, error);
    expect(error.details?.map((d) => d.field)).toEqual(
      expect.arrayContaining(['body.customerEmail', 'body.items.0.productId', 'body.items.0.quantity']),
    );
    expect((await post({ customerEmail: 'a@b.co', items: [] })).json()).toMatchObject({
      statusCode: 400,
      details: [expect.objectContaining({ field: 'body.items' })],
    });
    expect(await orderCount()).toBe(0);
  });

  it('refuses the same product on two lines, naming the repeated line', async () => {
    const res = await post(
      body([
        { productId: mug.id, quantity: 1 },
        { productId: tee.id, quantity: 1 },
        { productId: mug.id, quantity: 2 },
      ]),
    );
    expect(res.statusCode).toBe(400);
    expect((res.json() as ErrorBody).details).toEqual([
      {
        field: 'body.items.2.productId',
        message: 'repeats items.0; put the whole quantity on one item',
      },
    ]);
    expect(catalog.requests).toEqual([]);
  });

  it('answers 422 naming every unknown product', async () => {
    const other = '88888888-8888-4888-8888-888888888888';
    const res = await post(
      body([
        { productId: unknownId, quantity: 1 },
        { productId: mug.id, quantity: 1 },
        { productId: other, quantity: 1 },
      ]),
    );
    expect(res.statusCode).toBe(422);
    const error = res.json() as ErrorBody;
    expect(error.message).toBe(
      `unknown products ${unknownId}, ${other}; order only ids listed by the catalog (GET /products)`,
    );
    expect(error.details?.map((d) => d.field)).toEqual(['body.items.0.productId', 'body.items.2.productId']);
    expect(await orderCount()).toBe(0);
  });

  it('answers 422 when the quantity exceeds the stock', async () => {
    const res = await post(body([{ productId: mug.id, quantity: 6 }]));
    expect(res.statusCode).toBe(422);
    expect((res.json() as ErrorBody).message).toBe(
      `out of stock: MUG-001 (${mug.id}) has 5, 6 requested; lower the quantity`,
    );
    expect((await post(body([{ productId: mug.id, quantity: 5 }]))).statusCode).toBe(201);
  });

  it('answers 422 for items priced in different currencies', async () => {
    const res = await post(
      body([
        { productId: mug.id, quantity: 1 },
        { productId: poster.id, quantity: 1 },
      ]),
    );
    expect(res.statusCode).toBe(422);
    expect((res.json() as ErrorBody).message).toBe('the items are priced in EUR and USD; place one order per currency');
  });

  it('answers 503 when the catalog keeps failing, after retrying', async () => {
    catalog.mode = { kind: 'status', status: 503 };
    const res = await post(body([{ productId: mug.id, quantity: 1 }]));
    expect(res.statusCode).toBe(503);
    expect(res.headers['retry-after']).toBe('1');
    expect(res.json()).toEqual({
      statusCode: 503,
      error: 'Service Unavailable',
      message: 'the catalog is unavailable, so the order cannot be priced; retry later',
    });
    expect(catalog.requests).toHaveLength(2); // CATALOG_RETRIES=1
    expect(await orderCount()).toBe(0);
  });

  it('answers 503 when the catalog times out', async () => {
    catalog.mode = { kind: 'hang' };
    const started = Date.now();
    const res = await post(body([{ productId: mug.id, quantity: 1 }]));
    expect(res.statusCode).toBe(503);
    // two attempts of CATALOG_TIMEOUT_MS=3000 plus one backoff: bounded, not hanging
    expect(Date.now() - started).toBeLessThan(15_000);
  });

  it('answers 502 without internals when the catalog answers something else', async () => {
    catalog.mode = { kind: 'status', status: 500 };
    const failed = await post(body([{ productId: mug.id, quantity: 1 }]));
    expect(failed.statusCode).toBe(502);
    expect(failed.json()).toEqual({
      statusCode: 502,
      error: 'Bad Gateway',
      message: 'Bad Gateway',
    });
    catalog.mode = { kind: 'body', body: { ...mug, priceCents: 'cheap' } };
    expect((await post(body([{ productId: mug.id, quantity: 1 }]))).statusCode).toBe(502);
  });
});

describe('POST /orders with an Idempotency-Key (PostgreSQL store on PGlite)', () => {
  it('uses the orders database when REDIS_URL is unset', () => {
    expect(orders.idempotency.kind).toBe('postgres');
  });

  it('replays the stored response for the same key and body', async () => {
    const payload = body([{ productId: tee.id, quantity: 3 }]);
    const first = await post(payload, { 'idempotency-key': 'checkout-1' });
    expect(first.statusCode).toBe(201);
    expect(first.headers['idempotent-replayed']).toBeUndefined();
    // the same body with keys in another order is the same request
    const again = await post(
      { items: payload.items, customerEmail: payload.customerEmail },
      { 'idempotency-key': 'checkout-1' },
    );
    expect(again.statusCode).toBe(201);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.json()).toEqual(first.json());
    expect(await orderCount()).toBe(1);
    expect(catalog.requests).toHaveLength(1);
  });

  it('creates exactly one order for concurrent identical requests', async () => {
    const payload = body([{ productId: mug.id, quantity: 1 }]);
    catalog.mode = { kind: 'ok', delayMs: 50 };
    const responses = await Promise.all(
      Array.from({ length: 10 }, () => post(payload, { 'idempotency-key': 'double-click' })),
    );
    expect(responses.map((r) => r.statusCode)).toEqual(Array(10).fill(201));
    expect(new Set(responses.map((r) => (r.json() as Order).id)).size).toBe(1);
    expect(responses.filter((r) => r.headers['idempotent-replayed'] === 'true')).toHaveLength(9);
    expect(await orderCount()).toBe(1);
  });

  it('refuses the same key with a different body', async () => {
    await post(body([{ productId: tee.id, quantity: 1 }]), {
      'idempotency-key': 'reused',
    });
    const res = await post(body([{ productId: tee.id, quantity: 2 }]), {
      'idempotency-key': 'reused',
    });
    expect(res.statusCode).toBe(422);
    expect((res.json() as ErrorBody).message).toBe(
      'Idempotency-Key "reused" was already used with a different request body; use a new key for a different order',
    );
    expect(await orderCount()).toBe(1);
  });

  it('frees the key when the attempt fails, so a retry is processed', async () => {
    catalog.mode = { kind: 'status', status: 503 };
    const payload = body([{ productId: tee.id, quantity: 1 }]);
    expect((await post(payload, { 'idempotency-key': 'retry-me' })).statusCode).toBe(503);
    catalog.mode = { kind: 'ok' };
    const retry = await post(payload, { 'idempotency-key': 'retry-me' });
    expect(retry.statusCode).toBe(201);
    expect(retry.headers['idempotent-replayed']).toBeUndefined();
  });

  it('answers 409 with Retry-After when the holder does not finish within the wait', async () => {
    const waitsBriefly = await buildApp(testConfig({ CATALOG_URL: catalog.url, IDEMPOTENCY_WAIT_MS: '100' }), {
      database: db,
      service: quiet,
    });
    try {
      const payload = body([{ productId: tee.id, quantity: 1 }]);
      const store = new PostgresIdempotencyStore(db, {
        lockMs: 60_000,
        ttlMs: 60_000,
      });
      expect((await store.claim('held', requestFingerprint(payload))).kind).toBe('claimed');
      const res = await waitsBriefly.service.app.inject({
        method: 'POST',
        url: '/orders',
        payload,
        headers: { 'idempotency-key': 'held' },
      });
      expect(res.statusCode).toBe(409);
      expect(res.headers['retry-after']).toBe('1');
      expect((res.json() as ErrorBody).message).toContain('is still being processed; retry shortly');
    } finally {
      await waitsBriefly.service.shutdown();
    }
  });

  it('answers 503 when the idempotency store is down, and still works without a key', async () => {
    const down: IdempotencyStore = {
      kind: 'redis',
      completesInTransaction: false,
      claim: async () => {
        throw new IdempotencyStoreUnavailableError(new Error('connect ECONNREFUSED 127.0.0.1:6379'));
      },
      complete: async () => undefined,
      release: async () => undefined,
    };
    const withDownStore = await buildApp(testConfig({ CATALOG_URL: catalog.url }), {
      database: db,
      service: quiet,
      idempotency: down,
    });
    try {
      const payload = body([{ productId: tee.id, quantity: 1 }]);
      const res = await withDownStore.service.app.inject({
        method: 'POST',
        url: '/orders',
        payload,
        headers: { 'idempotency-key': 'k' },
      });
      expect(res.statusCode).toBe(503);
      expect((res.json() as ErrorBody).message).toBe(
        'the idempotency store is unavailable; retry later with the same Idempotency-Key',
      );
      expect(
        (
          await withDownStore.service.app.inject({
            method: 'POST',
            url: '/orders',
            payload,
          })
        ).statusCode,
      ).toBe(201);
    } finally {
      await withDownStore.service.shutdown();
    }
  });

  it('sweeps expired keys periodically', async () => {
    const sweeping = await buildApp(testConfig({ CATALOG_URL: catalog.url }), {
      database: db,
      service: quiet,
      idempotencySweepIntervalMs: 20,
    });
    try {
      await db.query(
        `INSERT INTO idempotency_keys (key, fingerprint, state, token, expires_at)
         VALUES ('old', 'fp', 'completed', '00000000-0000-4000-8000-000000000000', now() - interval '1 hour')`,
      );
      const count = async () => (await db.query<{ n: number }>('SELECT count(*) AS n FROM idempotency_keys')).rows[0].n;
      for (let i = 0; i < 100 && (await count()) > 0; i++) await new Promise((r) => setTimeout(r, 20));
      expect(await count()).toBe(0);
    } finally {
      await sweeping.service.shutdown();
    }
  });

  it('rejects a malformed key', async () => {
    const res = await post(body([{ productId: tee.id, quantity: 1 }]), {
      'idempotency-key': 'has spaces in it',
    });
    expect(res.statusCode).toBe(400);
    expect((res.json() as ErrorBody).details?.[0].field).toBe('headers.idempotency-key');
  });
});

describe('GET /orders', () => {
  it('lists newest first with pagination and total', async () => {
    const created: Order[] = [];
    for (let i = 0; i < 3; i++) {
      created.push((await post(body([{ productId: tee.id, quantity: i + 1 }], `c${i}@example.com`))).json() as Order);
      await new Promise((r) => setTimeout(r, 2));
    }
    const page = (await orders.service.app.inject('/orders?limit=2')).json() as OrderListResponse;
    expectContract(OrderListResponse, page);
    expect(page).toMatchObject({ total: 3, limit: 2, offset: 0 });
    expect(page.items.map((o) => o.customerEmail)).toEqual(['c2@example.com', 'c1@example.com']);
    expect(page.items[0].items).toHaveLength(1);
    const rest = (await orders.service.app.inject('/orders?limit=2&offset=2')).json() as OrderListResponse;
    expect(rest.items.map((o) => o.id)).toEqual([created[0].id]);
    expect((await orders.service.app.inject('/orders')).json()).toMatchObject({
      limit: 20,
      offset: 0,
      total: 3,
    });
  });

  it('lists nothing on an empty database and rejects a bad limit', async () => {
    expect((await orders.service.app.inject('/orders')).json()).toEqual({
      items: [],
      total: 0,
      limit: 20,
      offset: 0,
    });
    expect((await orders.service.app.inject('/orders?limit=0')).statusCode).toBe(400);
  });

  it('answers 404 for an unknown order and 400 for a malformed id', async () => {
    const missing = await orders.service.app.inject(`/orders/${unknownId}`);
    expect(missing.statusCode).toBe(404);
    expect((missing.json() as ErrorBody).message).toBe(`order ${unknownId} not found`);
    expect((await orders.service.app.inject('/orders/abc')).statusCode).toBe(400);
  });
});

describe('startup and health', () => {
  it('applied and recorded the migrations and is ready', async () => {
    expect((await appliedMigrations(db, MIGRATIONS_TABLE)).map((m) => `${m.version}_${m.name}`)).toEqual([
      '1_create_orders',
      '2_create_idempotency_keys',
    ]);
    const ready = await orders.service.app.inject('/health/readiness');
    expect(ready.statusCode).toBe(200);
    expect(ready.json()).toMatchObject({
      status: 'ready',
      checks: { db: { status: 'up' } },
    });
  });

  it('finds the migrations shipped with the sources', () => {
    expect(defaultMigrationsDir()).toMatch(/apps\/orders\/src\/assets\/migrations$/);
  });

  it('fails to build when the migrations directory is missing', async () => {
    await expect(
      buildApp(testConfig(), {
        migrationsDir: '/nonexistent/migrations',
        service: quiet,
      }),
    ).rejects.toThrow('cannot read the migrations directory /nonexistent/migrations');
  });

  it('opens its own embedded database when none is given, and closes it on shutdown', async () => {
    const own = await buildApp(testConfig({ CATALOG_URL: catalog.url }), {
      service: quiet,
    });
    expect(own.database.kind).toBe('pglite');
    expect((await own.service.app.inject('/orders')).statusCode).toBe(200);
    await own.service.shutdown();
    await expect(own.database.ping()).rejects.toThrow(/closed/);
  });

  it('answers 503 naming the catalog when nothing listens at CATALOG_URL', async () => {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    await new Promise((resolve) => server.close(resolve));
    const offline = await buildApp(testConfig({ CATALOG_URL: `http://127.0.0.1:${port}` }), {
      database: db,
      service: quiet,
    });
    try {
      const res = await offline.service.app.inject({
        method: 'POST',
        url: '/orders',
        payload: body([{ productId: mug.id, quantity: 1 }]),
      });
      expect(res.statusCode).toBe(503);
      expect((res.json() as ErrorBody).message).toContain('the catalog is unavailable');
    } finally {
      await offline.service.shutdown();
    }
  });
});
