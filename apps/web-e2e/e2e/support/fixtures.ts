import { test as base, expect } from '@playwright/test';

export type ServiceName = 'web' | 'catalog' | 'orders';

export interface StackOptions {
  /** x-api-key for product writes through /api/catalog; unset against a deployed stack without one. */
  catalogApiKey: string | undefined;
  /** Versions the stack must report; empty when the deployed versions are not known here. */
  expectedVersions: Partial<Record<ServiceName, string>>;
}

export interface CreatedProduct {
  id: string;
  sku: string;
  name: string;
  priceCents: number;
  currency: 'EUR' | 'USD';
  stock: number;
}

interface Fixtures {
  /** A token unique to this test, to find the data it created among everything else. */
  runToken: string;
  /** Creates a product through the web's /api/catalog proxy (needs catalogApiKey). */
  createProduct: (product: Omit<CreatedProduct, 'id'>) => Promise<CreatedProduct>;
}

export const test = base.extend<StackOptions & Fixtures>({
  catalogApiKey: [undefined, { option: true }],
  expectedVersions: [{}, { option: true }],
  // eslint-disable-next-line no-empty-pattern
  runToken: async ({}, use, testInfo) => {
    await use(`e2e${Date.now().toString(36)}${testInfo.workerIndex}${Math.random().toString(36).slice(2, 6)}`);
  },
  createProduct: async ({ request, catalogApiKey }, use) => {
    await use(async (product) => {
      if (!catalogApiKey) throw new Error('creating products needs E2E_CATALOG_API_KEY (the catalog API_KEY)');
      const response = await request.post('/api/catalog/products', {
        headers: { 'x-api-key': catalogApiKey },
        data: { ...product, description: 'created by the web-e2e journeys' },
      });
      expect(response.status(), await response.text()).toBe(201);
      return (await response.json()) as CreatedProduct;
    });
  },
});

export { expect };

/** The same formatting the web uses, so journeys can assert prices as users read them. */
export function money(cents: number, currency: string): string {
  return new Intl.NumberFormat('en', { style: 'currency', currency }).format(cents / 100);
}

export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
