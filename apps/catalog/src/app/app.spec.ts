import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SignJWT } from 'jose';
import {
  contractViolations,
  ErrorBody,
  Product,
  ProductListResponse,
  type ProductCreateBody,
} from '@slipway/contracts';
import { appliedMigrations, createPgliteDatabase, type Database } from '@slipway/service-kit/database';
import { TEST_API_KEY, TEST_JWT_SECRET, testConfig } from '../test-support/catalog-env.js';
import { buildApp, defaultMigrationsDir, MIGRATIONS_TABLE, type CatalogApp } from './app.js';
import { SAMPLE_PRODUCTS } from './sample-products.js';

const quiet = { logger: false } as const;
let db: Database;

beforeAll(async () => {
  db = await createPgliteDatabase();
});
afterAll(() => db.close());

async function resetDatabase(): Promise<void> {
  await db.exec('DROP SCHEMA public CASCADE; CREATE SCHEMA public;');
}

function expectContract(schema: Parameters<typeof contractViolations>[0], body: unknown) {
  expect(contractViolations(schema, body)).toEqual([]);
}

const apiKey = { 'x-api-key': TEST_API_KEY };
const newProduct: ProductCreateBody = {
  sku: 'KEY-RING',
  name: 'Key ring',
  description: 'Brass',
  priceCents: 990,
  currency: 'EUR',
  stock: 7,
};

async function jwt(
  options: {
    secret?: string;
    alg?: string;
    expiresIn?: string;
    sub?: string;
  } = {},
): Promise<string> {
  const token = new SignJWT({ scope: 'catalog:write' })
    .setProtectedHeader({ alg: options.alg ?? 'HS256' })
    .setIssuedAt()
    .setSubject(options.sub ?? 'ops@example.com');
  if (options.expiresIn) token.setExpirationTime(options.expiresIn);
  return token.sign(new TextEncoder().encode(options.secret ?? TEST_JWT_SECRET));
}

describe('catalog with sample data', () => {
  let catalog: CatalogApp;
  beforeAll(async () => {
    await resetDatabase();
    catalog = await buildApp(testConfig(), { database: db, service: quiet });
  });
  afterAll(() => catalog.service.shutdown());

  const get = (url: string) => catalog.service.app.inject({ method: 'GET', url });

  it('applied and recorded both migrations', async () => {
    const recorded = await appliedMigrations(db, MIGRATIONS_TABLE);
    expect(recorded.map((m) => `${m.version}_${m.name}`)).toEqual(['1_create_products', '2_unique_sku_ignoring_case']);
  });

  it('is ready when the database answers', async () => {
    const res = await get('/health/readiness');
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({
      status: 'ready',
      checks: { db: { status: 'up' } },
    });
    expect((await get('/health')).json()).toMatchObject({
      service: 'catalog',
      status: 'ok',
    });
  });

  it('lists the first page with the defaults, sorted by name', async () => {
    const res = await get('/products');
    expect(res.statusCode).toBe(200);
    const body = res.json() as ProductListResponse;
    expectContract(ProductListResponse, body);
    expect(body).toMatchObject({
      total: SAMPLE_PRODUCTS.length,
      limit: 20,
      offset: 0,
    });
    const names = body.items.map((p) => p.name);
    expect(names).toEqual([...SAMPLE_PRODUCTS.map((p) => p.name)].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)));
  });

  it('pages with limit and offset, keeping the total', async () => {
    const all = (await get('/products?limit=100')).json() as ProductListResponse;
    const page = (await get('/products?limit=5&offset=10')).json() as ProductListResponse;
    expect(page).toMatchObject({
      total: SAMPLE_PRODUCTS.length,
      limit: 5,
      offset: 10,
    });
    expect(page.items.map((p) => p.id)).toEqual(all.items.slice(10, 15).map((p) => p.id));
    const beyond = (await get('/products?offset=500')).json() as ProductListResponse;
    expect(beyond).toMatchObject({ items: [], total: SAMPLE_PRODUCTS.length });
  });

  it('searches name and sku case-insensitively', async () => {
    const byName = (await get('/products?q=t-SHIRT')).json() as ProductListResponse;
    expect(byName.items.map((p) => p.sku).sort()).toEqual(['TEE-BLK-L', 'TEE-BLK-M']);
    expect(byName.total).toBe(2);
    const bySku = (await get('/products?q=stick-')).json() as ProductListResponse;
    expect(bySku.items.map((p) => p.sku)).toEqual(['STICK-PACK']);
    const searchAndPage = (await get('/products?q=T-Shirt&limit=1&offset=1')).json() as ProductListResponse;
    expect(searchAndPage).toMatchObject({ total: 2, limit: 1, offset: 1 });
    expect(searchAndPage.items).toHaveLength(1);
  });

  it('treats % and _ in q literally', async () => {
    expect((await get('/products?q=%25')).json()).toMatchObject({
      items: [],
      total: 0,
    });
    expect((await get('/products?q=_')).json()).toMatchObject({
      items: [],
      total: 0,
    });
    expect(((await get('/products?q=%20')).json() as ProductListResponse).total).toBe(SAMPLE_PRODUCTS.length);
  });

  it.each([
    ['limit=0', 'querystring.limit'],
    ['limit=101', 'querystring.limit'],
    ['limit=ten', 'querystring.limit'],
    ['offset=-1', 'querystring.offset'],
  ])('rejects %s with 400 naming the field', async (query, field) => {
    const res = await get(`/products?${query}`);
    expect(res.statusCode).toBe(400);
    const body = res.json() as ErrorBody;
    expectContract(ErrorBody, body);
    expect(body.details?.map((d) => d.field)).toContain(field);
  });

  it('gets one product, 404 for an unknown id and 400 for a malformed one', async () => {
    const sample = SAMPLE_PRODUCTS[0];
    const res = await get(`/products/${sample.id}`);
    expect(res.statusCode).toBe(200);
    expectContract(Product, res.json());
    expect(res.json()).toMatchObject({
      id: sample.id,
      sku: sample.sku,
      priceCents: sample.priceCents,
      stock: sample.stock,
    });

    const missing = await get('/products/00000000-0000-4000-8000-000000000000');
    expect(missing.statusCode).toBe(404);
    expect(missing.json()).toEqual({
      statusCode: 404,
      error: 'Not Found',
      message: 'product 00000000-0000-4000-8000-000000000000 not found',
    });

    const malformed = await get('/products/42');
    expect(malformed.statusCode).toBe(400);
    expect((malformed.json() as ErrorBody).details).toEqual([expect.objectContaining({ field: 'params.id' })]);
  });

  it('does not insert the samples again on restart', async () => {
    const again = await buildApp(testConfig(), {
      database: db,
      service: quiet,
    });
    try {
      expect(((await again.service.app.inject('/products')).json() as ProductListResponse).total).toBe(
        SAMPLE_PRODUCTS.length,
      );
    } finally {
      await again.service.shutdown();
    }
  });
});

describe('product writes', () => {
  let catalog: CatalogApp;
  beforeAll(async () => {
    await resetDatabase();
    catalog = await buildApp(testConfig({ SEED_SAMPLE_DATA: 'false' }), {
      database: db,
      service: quiet,
    });
  });
  afterAll(() => catalog.service.shutdown());

  const send = (method: 'POST' | 'PUT', url: string, payload: unknown, headers: Record<string, string> = apiKey) =>
    catalog.service.app.inject({
      method,
      url,
      payload: payload as object,
      headers,
    });

  it('starts empty when SEED_SAMPLE_DATA=false', async () => {
    expect((await catalog.service.app.inject('/products')).json()).toMatchObject({ items: [], total: 0 });
  });

  it('creates a product with the API key', async () => {
    const res = await send('POST', '/products', newProduct);
    expect(res.statusCode).toBe(201);
    const created = res.json() as Product;
    expectContract(Product, created);
    expect(created).toMatchObject(newProduct);
    expect(created.createdAt).toBe(created.updatedAt);
    expect(res.headers['location']).toBe(`/products/${created.id}`);
    expect((await catalog.service.app.inject(`/products/${created.id}`)).json()).toEqual(created);
  });

  it('defaults a missing description to an empty string', async () => {
    // undefined properties are left out of the JSON payload
    const res = await send('POST', '/products', {
      ...newProduct,
      sku: 'NO-DESC',
      description: undefined,
    });
    expect(res.statusCode).toBe(201);
    expect((res.json() as Product).description).toBe('');
  });

  it('answers 409 for a sku that exists in any letter case', async () => {
    const res = await send('POST', '/products', {
      ...newProduct,
      sku: 'key-ring',
    });
    expect(res.statusCode).toBe(409);
    expect((res.json() as ErrorBody).message).toContain('a product with sku "key-ring" exists already');
  });

  it('answers 400 listing every invalid field', async () => {
    const res = await send('POST', '/products', {
      sku: 'BAD SKU',
      name: '',
      priceCents: -5,
      currency: 'GBP',
    });
    expect(res.statusCode).toBe(400);
    const fields = (res.json() as ErrorBody).details?.map((d) => d.field) ?? [];
    expect(fields).toEqual(
      expect.arrayContaining(['body.sku', 'body.name', 'body.priceCents', 'body.currency', 'body.stock']),
    );
  });

  it('accepts an HS256 bearer token signed with JWT_SECRET', async () => {
    const res = await send(
      'POST',
      '/products',
      { ...newProduct, sku: 'JWT-1' },
      { authorization: `Bearer ${await jwt({ expiresIn: '5m' })}` },
    );
    expect(res.statusCode).toBe(201);
  });

  it.each([
    ['no credentials', async () => ({}), 'authentication required: send the x-api-key header'],
    ['a wrong API key', async () => ({ 'x-api-key': 'not-the-key-at-all' }), 'does not match the catalog API key'],
    [
      'a token signed with another secret',
      async () => ({
        authorization: `Bearer ${await jwt({ secret: 'x'.repeat(40) })}`,
      }),
      'not a valid HS256 JWT',
    ],
    [
      'an expired token',
      async () => ({
        authorization: `Bearer ${await jwt({ expiresIn: '-1m' })}`,
      }),
      'has expired',
    ],
    [
      'an HS512 token',
      async () => ({ authorization: `Bearer ${await jwt({ alg: 'HS512' })}` }),
      'must be signed with HS256',
    ],
    ['a malformed token', async () => ({ authorization: 'Bearer abc.def' }), 'not a valid HS256 JWT'],
    ['basic auth', async () => ({ authorization: 'Basic dXNlcjpwdw==' }), 'authentication required'],
  ])('refuses %s with 401 before validating the body', async (_label, headers, message) => {
    const res = await send('POST', '/products', { not: 'even valid' }, await headers());
    expect(res.statusCode).toBe(401);
    expect(res.headers['www-authenticate']).toBe('Bearer');
    expect((res.json() as ErrorBody).message).toContain(message);
  });

  it('replaces a product with PUT and bumps updatedAt', async () => {
    const created = (await send('POST', '/products', { ...newProduct, sku: 'PUT-ME' })).json() as Product;
    await new Promise((r) => setTimeout(r, 5));
    const res = await send('PUT', `/products/${created.id}`, {
      ...newProduct,
      sku: 'PUT-ME',
      name: 'Renamed',
      stock: 0,
    });
    expect(res.statusCode).toBe(200);
    const updated = res.json() as Product;
    expectContract(Product, updated);
    expect(updated).toMatchObject({
      id: created.id,
      name: 'Renamed',
      stock: 0,
      description: 'Brass',
      createdAt: created.createdAt,
    });
    expect(Date.parse(updated.updatedAt)).toBeGreaterThan(Date.parse(created.updatedAt));
  });

  it('answers 404, 409 and 401 for PUT as for POST', async () => {
    const unknown = await send('PUT', '/products/00000000-0000-4000-8000-000000000001', newProduct);
    expect(unknown.statusCode).toBe(404);
    const other = (await send('POST', '/products', { ...newProduct, sku: 'OTHER' })).json() as Product;
    expect(
      (
        await send('PUT', `/products/${other.id}`, {
          ...newProduct,
          sku: 'KEY-RING',
        })
      ).statusCode,
    ).toBe(409);
    expect((await send('PUT', `/products/${other.id}`, newProduct, {})).statusCode).toBe(401);
  });
});

describe('write authentication configuration', () => {
  afterEach(() => resetDatabase());

  it('disables writes when neither API_KEY nor JWT_SECRET is configured', async () => {
    const catalog = await buildApp(testConfig({ API_KEY: '', JWT_SECRET: '', SEED_SAMPLE_DATA: 'false' }), {
      database: db,
      service: quiet,
    });
    try {
      const res = await catalog.service.app.inject({
        method: 'POST',
        url: '/products',
        payload: newProduct,
        headers: apiKey,
      });
      expect(res.statusCode).toBe(401);
      expect((res.json() as ErrorBody).message).toBe(
        'product writes are disabled: the catalog has neither API_KEY nor JWT_SECRET configured',
      );
    } finally {
      await catalog.service.shutdown();
    }
  });

  it('says so when a bearer token arrives but only an API key is configured', async () => {
    const catalog = await buildApp(testConfig({ JWT_SECRET: '', SEED_SAMPLE_DATA: 'false' }), {
      database: db,
      service: quiet,
    });
    try {
      const res = await catalog.service.app.inject({
        method: 'POST',
        url: '/products',
        payload: newProduct,
        headers: { authorization: `Bearer ${await jwt()}` },
      });
      expect(res.statusCode).toBe(401);
      expect((res.json() as ErrorBody).message).toContain('the catalog has no JWT_SECRET configured; use x-api-key');
    } finally {
      await catalog.service.shutdown();
    }
  });
});

describe('startup', () => {
  let emptyDir: string;
  beforeAll(async () => (emptyDir = await mkdtemp(join(tmpdir(), 'catalog-no-migrations-'))));
  afterAll(() => rm(emptyDir, { recursive: true, force: true }));

  it('finds the migrations shipped with the sources', () => {
    expect(defaultMigrationsDir()).toMatch(/apps\/catalog\/src\/assets\/migrations$/);
  });

  it('fails to build and releases what it opened when migrations are missing', async () => {
    await expect(buildApp(testConfig(), { migrationsDir: emptyDir, service: quiet })).rejects.toThrow(
      `no *.sql migrations found in ${emptyDir}`,
    );
  });

  it('opens its own embedded database when none is given, and closes it on shutdown', async () => {
    const catalog = await buildApp(testConfig(), { service: quiet });
    expect(catalog.database.kind).toBe('pglite');
    expect(((await catalog.service.app.inject('/products')).json() as ProductListResponse).total).toBe(
      SAMPLE_PRODUCTS.length,
    );
    await catalog.service.shutdown();
    await expect(catalog.database.ping()).rejects.toThrow(/closed/);
  });
});
