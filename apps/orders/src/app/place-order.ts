import { randomUUID } from 'node:crypto';
import { HttpError, type FieldError } from '@slipway/service-kit';
import { type Database, type Queryable } from '@slipway/service-kit/database';
import type { Order, OrderCreateBody, OrderItem, Product } from '@slipway/contracts';
import { CatalogContractError, CatalogUnavailableError, type CatalogClient } from './catalog-client.js';
import { OrdersRepository } from './orders-repository.js';

/** 503 with a message the client can act on (service-kit hides 5xx messages it did not write). */
export class ServiceUnavailableError extends Error {
  readonly statusCode = 503;
  constructor(message: string) {
    super(message);
    this.name = 'ServiceUnavailableError';
  }
}

/** Catalog lookups in flight at once for one order (an order has at most 50 items). */
const LOOKUP_CONCURRENCY = 8;

async function mapLimited<T, R>(values: T[], limit: number, fn: (value: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(values.length);
  let next = 0;
  const workers = Array.from({ length: Math.min(limit, values.length) }, async () => {
    while (next < values.length) {
      const index = next++;
      results[index] = await fn(values[index]);
    }
  });
  await Promise.all(workers);
  return results;
}

/** The same product twice in one order is almost always a client bug: say which lines. */
export function duplicateItems(body: OrderCreateBody): FieldError[] {
  const firstLine = new Map<string, number>();
  const problems: FieldError[] = [];
  body.items.forEach((item, index) => {
    const first = firstLine.get(item.productId);
    if (first === undefined) firstLine.set(item.productId, index);
    else {
      problems.push({
        field: `body.items.${index}.productId`,
        message: `repeats items.${first}; put the whole quantity on one item`,
      });
    }
  });
  return problems;
}

async function lookUpProducts(catalog: CatalogClient, body: OrderCreateBody): Promise<Product[]> {
  try {
    const products = await mapLimited(body.items, LOOKUP_CONCURRENCY, (item) => catalog.getProduct(item.productId));
    const unknown = body.items.flatMap((item, index) => (products[index] ? [] : [{ item, index }]));
    if (unknown.length > 0) {
      throw new HttpError(
        422,
        `unknown product${unknown.length > 1 ? 's' : ''} ${unknown.map(({ item }) => item.productId).join(', ')}; ` +
          'order only ids listed by the catalog (GET /products)',
        unknown.map(({ index }) => ({
          field: `body.items.${index}.productId`,
          message: 'no product with this id in the catalog',
        })),
      );
    }
    return products as Product[];
  } catch (error) {
    if (error instanceof CatalogUnavailableError) {
      throw new ServiceUnavailableError('the catalog is unavailable, so the order cannot be priced; retry later');
    }
    if (error instanceof CatalogContractError) {
      // A broken catalog response is the catalog's bug, not the client's: 502, details in the log.
      throw Object.assign(error, { statusCode: 502 });
    }
    throw error;
  }
}

function priceLines(body: OrderCreateBody, products: Product[]): { items: OrderItem[]; currency: Order['currency'] } {
  const short = body.items.flatMap((item, index) =>
    item.quantity > products[index].stock ? [{ item, index, product: products[index] }] : [],
  );
  if (short.length > 0) {
    throw new HttpError(
      422,
      `out of stock: ${short
        .map(({ item, product }) => `${product.sku} (${product.id}) has ${product.stock}, ${item.quantity} requested`)
        .join('; ')}; lower the quantity`,
      short.map(({ index, product }) => ({
        field: `body.items.${index}.quantity`,
        message: `exceeds the ${product.stock} in stock`,
      })),
    );
  }
  const currencies = [...new Set(products.map((p) => p.currency))];
  if (currencies.length > 1) {
    throw new HttpError(422, `the items are priced in ${currencies.join(' and ')}; place one order per currency`);
  }
  const items = body.items.map((item, index) => {
    const product = products[index];
    return {
      productId: product.id,
      sku: product.sku,
      name: product.name,
      quantity: item.quantity,
      unitPriceCents: product.priceCents,
      lineTotalCents: product.priceCents * item.quantity,
    };
  });
  return { items, currency: currencies[0] };
}

export interface PlaceOrderOptions {
  /** Runs in the order's transaction after the insert (e.g. storing the idempotent response). */
  beforeCommit?: (tx: Queryable, order: Order) => Promise<void>;
}

/**
 * Validates the items against the catalog, prices them with the catalog's current prices, and
 * stores the order. Stock is checked, not reserved: the catalog has no reservation API yet.
 */
export async function placeOrder(
  deps: { catalog: CatalogClient; database: Database },
  body: OrderCreateBody,
  options: PlaceOrderOptions = {},
): Promise<Order> {
  const products = await lookUpProducts(deps.catalog, body);
  const { items, currency } = priceLines(body, products);
  const totalCents = items.reduce((sum, line) => sum + line.lineTotalCents, 0);
  return deps.database.transaction(async (tx) => {
    const order = await new OrdersRepository(tx).insert({
      id: randomUUID(),
      customerEmail: body.customerEmail,
      items,
      totalCents,
      currency,
    });
    await options.beforeCommit?.(tx, order);
    return order;
  });
}
