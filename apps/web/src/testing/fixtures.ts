import type { HealthResponse, Order, Product, ProductListResponse } from '@slipway/contracts';

let counter = 0;

export function product(overrides: Partial<Product> = {}): Product {
  counter += 1;
  const n = String(counter).padStart(12, '0');
  return {
    id: `00000000-0000-4000-8000-${n}`,
    sku: `SKU-${counter}`,
    name: `Product ${counter}`,
    description: '',
    priceCents: 1250,
    currency: 'EUR',
    stock: 10,
    createdAt: '2025-01-01T00:00:00.000Z',
    updatedAt: '2025-01-01T00:00:00.000Z',
    ...overrides,
  };
}

export function productPage(items: Product[], page: Partial<ProductListResponse> = {}): ProductListResponse {
  return { items, total: items.length, limit: 20, offset: 0, ...page };
}

export function order(overrides: Partial<Order> = {}): Order {
  return {
    id: '3f1c2b7a-1111-4222-8333-444455556666',
    customerEmail: 'ada@example.com',
    status: 'confirmed',
    items: [],
    totalCents: 0,
    currency: 'EUR',
    createdAt: '2025-01-02T00:00:00.000Z',
    ...overrides,
  };
}

export function health(service: string, overrides: Partial<HealthResponse> = {}): HealthResponse {
  return {
    service,
    version: '1.2.3',
    revision: 'abc1234',
    status: 'ok',
    uptimeSeconds: 42,
    checks: {},
    ...overrides,
  };
}
