import {
  contractViolations,
  ErrorBody,
  Product,
  ProductListResponse,
  type Order,
  type ProductCreateBody,
} from '@slipway/contracts';
import { createHttpClient } from '@slipway/service-kit';
import { createPgliteDatabase, type Database } from '@slipway/service-kit/database';
import { startCatalogProcess, type CatalogProcess } from '../test-support/catalog-process.js';
import { testConfig } from '../test-support/orders-env.js';
import { buildApp, type OrdersApp } from './app.js';
import { CatalogContractError, createCatalogClient, type CatalogClient } from './catalog-client.js';

/*
 * Contract tests: orders' catalog client against the REAL catalog service (its built main.js in a
 * child process, embedded PGlite, sample data), with every catalog response checked against the
 * shared contracts. If the catalog changes a route or a field orders relies on, this fails.
 */
const API_KEY = 'contract-test-api-key-0123456789';
let catalogProcess: CatalogProcess;
let client: CatalogClient;

beforeAll(async () => {
  catalogProcess = await startCatalogProcess({ API_KEY });
  client = createCatalogClient(createHttpClient(catalogProcess.url, { timeoutMs: 5_000, retries: 1 }));
}, 120_000);

afterAll(async () => {
  // The real catalog must also shut down cleanly on SIGTERM.
  if (catalogProcess) expect(await catalogProcess.stop()).toBe(0);
});

async function catalogJson(path: string, init?: RequestInit): Promise<{ status: number; body: unknown }> {
  const res = await fetch(`${catalogProcess.url}${path}`, init);
  return { status: res.status, body: await res.json() };
}

async function createProduct(body: ProductCreateBody): Promise<Product> {
  const res = await catalogJson('/products', {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-api-key': API_KEY },
    body: JSON.stringify(body),
  });
  expect(res.status).toBe(201);
  return res.body as Product;
}

describe('catalog routes as orders uses them', () => {
  it('GET /products answers a page that matches the contract', async () => {
    const { status, body } = await catalogJson('/products?limit=100');
    expect(status).toBe(200);
    expect(contractViolations(ProductListResponse, body)).toEqual([]);
    expect((body as ProductListResponse).items.length).toBeGreaterThan(0);
  });

  it('the client reads every listed product exactly as GET /products/:id returns it', async () => {
    const { items } = (await catalogJson('/products?limit=100')).body as ProductListResponse;
    for (const listed of items) {
      const raw = await catalogJson(`/products/${listed.id}`);
      expect(raw.status).toBe(200);
      expect(contractViolations(Product, raw.body)).toEqual([]);
      expect(await client.getProduct(listed.id)).toEqual(raw.body);
      expect(raw.body).toEqual(listed);
    }
  });

  it('an unknown id is a 404 with a contract error body, which the client reads as "no such product"', async () => {
    const unknown = '99999999-9999-4999-8999-999999999999';
    const raw = await catalogJson(`/products/${unknown}`);
    expect(raw.status).toBe(404);
    expect(contractViolations(ErrorBody, raw.body)).toEqual([]);
    expect(await client.getProduct(unknown)).toBeUndefined();
  });

  it('a malformed id is a 400 naming params.id, which the client reports as a contract error', async () => {
    const raw = await catalogJson('/products/not-a-uuid');
    expect(raw.status).toBe(400);
    expect(contractViolations(ErrorBody, raw.body)).toEqual([]);
    expect((raw.body as ErrorBody).details?.[0]?.field).toBe('params.id');
    await expect(client.getProduct('not-a-uuid')).rejects.toBeInstanceOf(CatalogContractError);
  });
});

describe('orders priced by the real catalog', () => {
  let db: Database;
  let orders: OrdersApp;
  beforeAll(async () => {
    db = await createPgliteDatabase();
    orders = await buildApp(testConfig({ CATALOG_URL: catalogProcess.url }), {
      database: db,
      service: { logger: false },
    });
  }, 60_000);
  afterAll(async () => {
    await orders?.service.shutdown();
    await db?.close();
  });

  it('creates an order with the catalog prices and refuses what the catalog cannot supply', async () => {
    const lamp = await createProduct({
      sku: `LAMP-${Date.now()}`,
      name: 'Desk lamp',
      priceCents: 4_990,
      currency: 'EUR',
      stock: 3,
    });
    const ok = await orders.service.app.inject({
      method: 'POST',
      url: '/orders',
      payload: {
        customerEmail: 'grace@example.com',
        items: [{ productId: lamp.id, quantity: 2 }],
      },
    });
    expect(ok.statusCode).toBe(201);
    expect(ok.json<Order>()).toMatchObject({
      totalCents: 9_980,
      currency: 'EUR',
      items: [
        {
          productId: lamp.id,
          sku: lamp.sku,
          name: 'Desk lamp',
          quantity: 2,
          unitPriceCents: 4_990,
        },
      ],
    });

    const tooMany = await orders.service.app.inject({
      method: 'POST',
      url: '/orders',
      payload: {
        customerEmail: 'grace@example.com',
        items: [{ productId: lamp.id, quantity: 4 }],
      },
    });
    expect(tooMany.statusCode).toBe(422);
    expect(tooMany.json<ErrorBody>().message).toContain(`${lamp.sku} (${lamp.id}) has 3, 4 requested`);
  });
});
