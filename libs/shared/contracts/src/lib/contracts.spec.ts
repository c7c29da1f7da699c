import { Ajv, type ValidateFunction } from 'ajv';
import ajvFormats from 'ajv-formats';
import type { TSchema } from '@sinclair/typebox';
import {
  ContractViolationError,
  ErrorBody,
  HealthResponse,
  IdParams,
  LivenessResponse,
  Order,
  OrderCreateBody,
  OrderCreateHeaders,
  OrderListQuery,
  OrderListResponse,
  Product,
  ProductCreateBody,
  ProductListQuery,
  ProductListResponse,
  ProductUpdateBody,
  ReadinessResponse,
  contractViolations,
  parseContract,
} from '../index.js';

/*
 * Each schema is checked twice: by TypeBox's Value (what the web client and the contract tests use)
 * and by Ajv configured the way Fastify configures it (what the services validate requests with).
 * Both must agree on every good and bad payload, otherwise the client would accept what the server
 * rejects.
 */
const fastifyLikeAjv = new Ajv({
  coerceTypes: false, // checked without coercion: the payloads below are already JSON-typed
  useDefaults: false,
  removeAdditional: false,
  allErrors: true,
  strict: true,
});
// ajv-formats is CommonJS: under NodeNext its default import is the module object.
ajvFormats.default(fastifyLikeAjv);
const compiled = new Map<TSchema, ValidateFunction>();
function ajvAccepts(schema: TSchema, value: unknown): boolean {
  const validate = compiled.get(schema) ?? fastifyLikeAjv.compile(schema);
  compiled.set(schema, validate);
  return validate(value) === true;
}

function expectValid(schema: TSchema, value: unknown) {
  expect(contractViolations(schema, value)).toEqual([]);
  expect(ajvAccepts(schema, value)).toBe(true);
}

function expectInvalid(schema: TSchema, value: unknown, path: string) {
  const violations = contractViolations(schema, value);
  expect(violations.map((v) => v.path)).toContain(path);
  expect(ajvAccepts(schema, value)).toBe(false);
}

const product: Product = {
  id: '6f1c1f5e-2b0f-4f7e-9a52-2d1c0c1b6a11',
  sku: 'MUG-001',
  name: 'Slipway mug',
  description: 'Stoneware, 350 ml',
  priceCents: 1299,
  currency: 'EUR',
  stock: 40,
  createdAt: '2026-01-02T03:04:05.678Z',
  updatedAt: '2026-01-02T03:04:05.678Z',
};

const order: Order = {
  id: '0b7f0e55-6a0e-4b8e-8c1b-3f4a5e6d7c8b',
  customerEmail: 'ada@example.com',
  status: 'confirmed',
  items: [
    {
      productId: product.id,
      sku: product.sku,
      name: product.name,
      quantity: 2,
      unitPriceCents: 1299,
      lineTotalCents: 2598,
    },
  ],
  totalCents: 2598,
  currency: 'EUR',
  createdAt: '2026-01-02T03:04:05.678Z',
};

describe('Product', () => {
  it('accepts a complete product', () => expectValid(Product, product));

  it.each([
    ['id', { ...product, id: 'not-a-uuid' }, '/id'],
    ['negative price', { ...product, priceCents: -1 }, '/priceCents'],
    ['fractional price', { ...product, priceCents: 12.5 }, '/priceCents'],
    ['unknown currency', { ...product, currency: 'GBP' }, '/currency'],
    ['negative stock', { ...product, stock: -3 }, '/stock'],
    ['timestamp that is not ISO', { ...product, createdAt: 'yesterday' }, '/createdAt'],
    ['sku with spaces', { ...product, sku: 'MUG 001' }, '/sku'],
    ['extra property', { ...product, secret: 1 }, '/secret'],
  ])('rejects %s', (_label, value, path) => expectInvalid(Product, value, path));

  it('rejects a product without a name', () => {
    const { name: _omitted, ...withoutName } = product;
    expectInvalid(Product, withoutName, '/name');
  });
});

describe('Product list query and response', () => {
  it('accepts an empty query (defaults apply on the server) and a full one', () => {
    expectValid(ProductListQuery, {});
    expectValid(ProductListQuery, { limit: 100, offset: 40, q: 'mug' });
  });

  it.each([
    ['limit 0', { limit: 0 }, '/limit'],
    ['limit above 100', { limit: 101 }, '/limit'],
    ['negative offset', { offset: -1 }, '/offset'],
    ['overlong q', { q: 'x'.repeat(101) }, '/q'],
  ])('rejects %s', (_label, value, path) => expectInvalid(ProductListQuery, value, path));

  it('declares the defaults Fastify applies (limit 20, offset 0)', () => {
    expect(ProductListQuery.properties.limit.default).toBe(20);
    expect(ProductListQuery.properties.offset.default).toBe(0);
    expect(OrderListQuery.properties.limit.default).toBe(20);
  });

  it('accepts a page and rejects a page whose item is broken', () => {
    expectValid(ProductListResponse, { items: [product], total: 1, limit: 20, offset: 0 });
    expectInvalid(
      ProductListResponse,
      { items: [{ ...product, stock: 'many' }], total: 1, limit: 20, offset: 0 },
      '/items/0/stock',
    );
    expectInvalid(ProductListResponse, { items: [], limit: 20, offset: 0 }, '/total');
  });
});

describe('Product create and update bodies', () => {
  const body: ProductCreateBody = {
    sku: 'TEE-L',
    name: 'T-shirt L',
    priceCents: 2500,
    currency: 'USD',
    stock: 10,
  };

  it('accepts a body with and without description', () => {
    expectValid(ProductCreateBody, body);
    expectValid(ProductUpdateBody, { ...body, description: 'Cotton' });
  });

  it.each([
    ['missing sku', { name: 'x', priceCents: 1, currency: 'EUR', stock: 1 }, '/sku'],
    ['empty name', { ...body, name: '' }, '/name'],
    ['price as string', { ...body, priceCents: '25.00' }, '/priceCents'],
    ['server-owned id', { ...body, id: product.id }, '/id'],
  ])('rejects %s', (_label, value, path) => expectInvalid(ProductCreateBody, value, path));
});

describe('Order', () => {
  it('accepts a confirmed order', () => expectValid(Order, order));

  it.each([
    ['other status', { ...order, status: 'pending' }, '/status'],
    ['bad email', { ...order, customerEmail: 'ada at example' }, '/customerEmail'],
    ['no items', { ...order, items: [] }, '/items'],
    ['bad line', { ...order, items: [{ ...order.items[0], quantity: 0 }] }, '/items/0/quantity'],
  ])('rejects %s', (_label, value, path) => expectInvalid(Order, value, path));

  it('accepts a page of orders', () => {
    expectValid(OrderListResponse, { items: [order], total: 3, limit: 1, offset: 2 });
  });
});

describe('Order create body and headers', () => {
  const body: OrderCreateBody = {
    customerEmail: 'ada@example.com',
    items: [{ productId: product.id, quantity: 1 }],
  };

  it('accepts a valid body', () => expectValid(OrderCreateBody, body));

  it.each([
    ['no items', { ...body, items: [] }, '/items'],
    ['51 items', { ...body, items: Array.from({ length: 51 }, () => body.items[0]) }, '/items'],
    ['quantity 0', { ...body, items: [{ productId: product.id, quantity: 0 }] }, '/items/0/quantity'],
    ['quantity 101', { ...body, items: [{ productId: product.id, quantity: 101 }] }, '/items/0/quantity'],
    ['product id not a uuid', { ...body, items: [{ productId: 'MUG-001', quantity: 1 }] }, '/items/0/productId'],
    ['missing email', { items: body.items }, '/customerEmail'],
    ['client-set price', { ...body, items: [{ ...body.items[0], unitPriceCents: 1 }] }, '/items/0/unitPriceCents'],
  ])('rejects %s', (_label, value, path) => expectInvalid(OrderCreateBody, value, path));

  it('accepts printable idempotency keys and rejects empty or spaced ones', () => {
    expectValid(OrderCreateHeaders, { 'idempotency-key': 'checkout-42:attempt' });
    expectValid(OrderCreateHeaders, {});
    expectInvalid(OrderCreateHeaders, { 'idempotency-key': '' }, '/idempotency-key');
    expectInvalid(OrderCreateHeaders, { 'idempotency-key': 'has space' }, '/idempotency-key');
  });
});

describe('Health and error bodies', () => {
  it('accepts the service-kit health shapes', () => {
    expectValid(LivenessResponse, { status: 'ok' });
    expectValid(ReadinessResponse, { status: 'ready', checks: { db: { status: 'up' } } });
    expectValid(ReadinessResponse, {
      status: 'not-ready',
      failing: ['db'],
      checks: { db: { status: 'down', error: 'connection refused' } },
    });
    expectValid(HealthResponse, {
      service: 'catalog',
      version: '0.0.0-dev',
      revision: 'unknown',
      status: 'degraded',
      uptimeSeconds: 12.5,
      checks: { db: { status: 'down', error: 'timeout' } },
    });
  });

  it('rejects health bodies with unknown states', () => {
    expectInvalid(LivenessResponse, { status: 'fine' }, '/status');
    expect(contractViolations(ReadinessResponse, { status: 'ready' })).not.toEqual([]);
    expectInvalid(
      HealthResponse,
      { service: 'c', version: 'v', revision: 'r', status: 'sick', uptimeSeconds: 1, checks: {} },
      '/status',
    );
  });

  it('accepts error bodies with and without field details', () => {
    expectValid(ErrorBody, { statusCode: 404, error: 'Not Found', message: 'product x not found' });
    expectValid(ErrorBody, {
      statusCode: 400,
      error: 'Bad Request',
      message: 'body/items/0/quantity must be >= 1',
      details: [{ field: 'body.items.0.quantity', message: 'must be >= 1' }],
    });
    expectInvalid(ErrorBody, { statusCode: 200, error: 'OK', message: '' }, '/statusCode');
  });

  it('rejects ids that are not uuids in path params', () => {
    expectValid(IdParams, { id: product.id });
    expectInvalid(IdParams, { id: '42' }, '/id');
  });
});

describe('parseContract', () => {
  it('returns the payload when it conforms', () => {
    expect(parseContract(Product, product, 'catalog product')).toBe(product);
  });

  it('throws naming the payload and every violation', () => {
    let thrown: unknown;
    try {
      parseContract(Product, { ...product, stock: -1, currency: 'GBP' }, 'catalog GET /products/:id response');
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(ContractViolationError);
    const violation = thrown as ContractViolationError;
    expect(violation.message).toContain('catalog GET /products/:id response does not match its contract');
    expect(violation.violations.map((v) => v.path)).toEqual(expect.arrayContaining(['/stock', '/currency']));
  });

  it('names the root when the payload is not an object at all', () => {
    expect(() => parseContract(Product, null, 'body')).toThrow(/\(root\)/);
  });
});
