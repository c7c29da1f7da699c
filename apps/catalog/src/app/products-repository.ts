import { randomUUID } from 'node:crypto';
import type { Product, ProductCreateBody, ProductUpdateBody } from '@slipway/contracts';
import { isDatabaseError, UNIQUE_VIOLATION, type Queryable } from '@slipway/service-kit/database';

interface ProductRow {
  id: string;
  sku: string;
  name: string;
  description: string;
  price_cents: number;
  currency: Product['currency'];
  stock: number;
  created_at: Date;
  updated_at: Date;
}

const COLUMNS = 'id, sku, name, description, price_cents, currency, stock, created_at, updated_at';

function toProduct(row: ProductRow): Product {
  return {
    id: row.id,
    sku: row.sku,
    name: row.name,
    description: row.description,
    priceCents: row.price_cents,
    currency: row.currency,
    stock: row.stock,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
  };
}

/** A write hit the case-insensitive unique index on sku. */
export class DuplicateSkuError extends Error {
  constructor(readonly sku: string) {
    super(
      `a product with sku ${JSON.stringify(sku)} exists already (sku is unique, ignoring case); choose another sku or update that product`,
    );
    this.name = 'DuplicateSkuError';
  }
}

/** `q` is matched literally: %, _ and \ in user input must not act as LIKE wildcards. */
export function likePattern(q: string): string {
  return `%${q.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

export interface ListProductsQuery {
  limit: number;
  offset: number;
  q?: string;
}

/** All product SQL. Parameterized statements only: values never become part of the SQL text. */
export class ProductsRepository {
  constructor(private readonly db: Queryable) {}

  async list({ limit, offset, q }: ListProductsQuery): Promise<{ items: Product[]; total: number }> {
    const search = q?.trim();
    const where = search ? 'WHERE name ILIKE $1 OR sku ILIKE $1' : '';
    const params: unknown[] = search ? [likePattern(search)] : [];
    const total = await this.db.query<{ total: number }>(`SELECT count(*) AS total FROM products ${where}`, params);
    const page = await this.db.query<ProductRow>(
      `SELECT ${COLUMNS} FROM products ${where} ORDER BY name, id LIMIT $${params.length + 1} OFFSET $${params.length + 2}`,
      [...params, limit, offset],
    );
    return { items: page.rows.map(toProduct), total: total.rows[0].total };
  }

  async get(id: string): Promise<Product | undefined> {
    const { rows } = await this.db.query<ProductRow>(`SELECT ${COLUMNS} FROM products WHERE id = $1`, [id]);
    return rows[0] ? toProduct(rows[0]) : undefined;
  }

  async create(body: ProductCreateBody, id: string = randomUUID()): Promise<Product> {
    try {
      const { rows } = await this.db.query<ProductRow>(
        `INSERT INTO products (id, sku, name, description, price_cents, currency, stock)
         VALUES ($1, $2, $3, $4, $5, $6, $7)
         RETURNING ${COLUMNS}`,
        [id, body.sku, body.name, body.description ?? '', body.priceCents, body.currency, body.stock],
      );
      return toProduct(rows[0]);
    } catch (error) {
      if (isDatabaseError(error, UNIQUE_VIOLATION) && error.constraint === 'products_sku_lower_key') {
        throw new DuplicateSkuError(body.sku);
      }
      throw error;
    }
  }

  /** Full replacement; undefined when no product has this id. */
  async update(id: string, body: ProductUpdateBody): Promise<Product | undefined> {
    try {
      const { rows } = await this.db.query<ProductRow>(
        `UPDATE products
            SET sku = $2, name = $3, description = $4, price_cents = $5, currency = $6, stock = $7,
                updated_at = now()
          WHERE id = $1
          RETURNING ${COLUMNS}`,
        [id, body.sku, body.name, body.description ?? '', body.priceCents, body.currency, body.stock],
      );
      return rows[0] ? toProduct(rows[0]) : undefined;
    } catch (error) {
      if (isDatabaseError(error, UNIQUE_VIOLATION) && error.constraint === 'products_sku_lower_key') {
        throw new DuplicateSkuError(body.sku);
      }
      throw error;
    }
  }

  /**
   * Inserts `products` when the table is empty. ON CONFLICT keeps two replicas seeding at the same
   * moment from failing; returns how many rows this call inserted.
   */
  async seedIfEmpty(products: readonly (ProductCreateBody & { id: string })[]): Promise<number> {
    const { rows } = await this.db.query<{ any: boolean }>('SELECT EXISTS (SELECT 1 FROM products) AS any');
    if (rows[0].any) return 0;
    let inserted = 0;
    for (const p of products) {
      const result = await this.db.query(
        `INSERT INTO products (id, sku, name, description, price_cents, currency, stock)
         VALUES ($1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT DO NOTHING`,
        [p.id, p.sku, p.name, p.description ?? '', p.priceCents, p.currency, p.stock],
      );
      inserted += result.rowCount;
    }
    return inserted;
  }
}
