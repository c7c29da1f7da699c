import type { Order, OrderItem } from '@slipway/contracts';
import type { Queryable } from '@slipway/service-kit/database';

interface OrderRow {
  id: string;
  customer_email: string;
  status: 'confirmed';
  currency: Order['currency'];
  total_cents: number;
  created_at: Date;
}

interface ItemRow {
  order_id: string;
  product_id: string;
  sku: string;
  name: string;
  quantity: number;
  unit_price_cents: number;
  line_total_cents: number;
}

const ORDER_COLUMNS = 'id, customer_email, status, currency, total_cents, created_at';
const ITEM_COLUMNS = 'order_id, product_id, sku, name, quantity, unit_price_cents, line_total_cents';

function toItem(row: ItemRow): OrderItem {
  return {
    productId: row.product_id,
    sku: row.sku,
    name: row.name,
    quantity: row.quantity,
    unitPriceCents: row.unit_price_cents,
    lineTotalCents: row.line_total_cents,
  };
}

function toOrder(row: OrderRow, items: OrderItem[]): Order {
  return {
    id: row.id,
    customerEmail: row.customer_email,
    status: row.status,
    items,
    totalCents: row.total_cents,
    currency: row.currency,
    createdAt: row.created_at.toISOString(),
  };
}

export type NewOrder = Omit<Order, 'createdAt' | 'status'>;

/** All order SQL; parameterized statements only. */
export class OrdersRepository {
  constructor(private readonly db: Queryable) {}

  /** Inserts the order and its lines; call inside a transaction. */
  async insert(order: NewOrder): Promise<Order> {
    const { rows } = await this.db.query<OrderRow>(
      `INSERT INTO orders (id, customer_email, currency, total_cents) VALUES ($1, $2, $3, $4) RETURNING ${ORDER_COLUMNS}`,
      [order.id, order.customerEmail, order.currency, order.totalCents],
    );
    for (const [index, item] of order.items.entries()) {
      await this.db.query(
        `INSERT INTO order_items (order_id, line_no, product_id, sku, name, quantity, unit_price_cents, line_total_cents)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
        [
          order.id,
          index + 1,
          item.productId,
          item.sku,
          item.name,
          item.quantity,
          item.unitPriceCents,
          item.lineTotalCents,
        ],
      );
    }
    return toOrder(rows[0], order.items);
  }

  async get(id: string): Promise<Order | undefined> {
    const { rows } = await this.db.query<OrderRow>(`SELECT ${ORDER_COLUMNS} FROM orders WHERE id = $1`, [id]);
    if (!rows[0]) return undefined;
    const items = await this.itemsOf([id]);
    return toOrder(rows[0], items.get(id) ?? []);
  }

  /** Newest first. */
  async list(limit: number, offset: number): Promise<{ items: Order[]; total: number }> {
    const total = await this.db.query<{ total: number }>('SELECT count(*) AS total FROM orders');
    const { rows } = await this.db.query<OrderRow>(
      `SELECT ${ORDER_COLUMNS} FROM orders ORDER BY created_at DESC, id DESC LIMIT $1 OFFSET $2`,
      [limit, offset],
    );
    const items = await this.itemsOf(rows.map((r) => r.id));
    return {
      items: rows.map((r) => toOrder(r, items.get(r.id) ?? [])),
      total: total.rows[0].total,
    };
  }

  private async itemsOf(orderIds: string[]): Promise<Map<string, OrderItem[]>> {
    const byOrder = new Map<string, OrderItem[]>();
    if (orderIds.length === 0) return byOrder;
    const { rows } = await this.db.query<ItemRow>(
      `SELECT ${ITEM_COLUMNS} FROM order_items WHERE order_id = ANY($1::uuid[]) ORDER BY order_id, line_no`,
      [orderIds],
    );
    for (const row of rows) {
      const list = byOrder.get(row.order_id) ?? [];
      list.push(toItem(row));
      byOrder.set(row.order_id, list);
    }
    return byOrder;
  }
}
