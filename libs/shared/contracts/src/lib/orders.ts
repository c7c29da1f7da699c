import { Type, type Static } from '@sinclair/typebox';
import { Currency, IsoDateTime, PageQuery, Uuid } from './common.js';
import { PriceCents, Sku } from './products.js';
import { PageOf } from './schema-helpers.js';

export const MAX_ORDER_ITEMS = 50;
export const MAX_ITEM_QUANTITY = 100;

export const OrderItemInput = Type.Object(
  {
    productId: Uuid,
    quantity: Type.Integer({ minimum: 1, maximum: MAX_ITEM_QUANTITY }),
  },
  { additionalProperties: false },
);
export type OrderItemInput = Static<typeof OrderItemInput>;

/** POST /orders, optionally with an `Idempotency-Key` header. */
export const OrderCreateBody = Type.Object(
  {
    customerEmail: Type.String({ format: 'email', maxLength: 254 }),
    items: Type.Array(OrderItemInput, { minItems: 1, maxItems: MAX_ORDER_ITEMS }),
  },
  { additionalProperties: false },
);
export type OrderCreateBody = Static<typeof OrderCreateBody>;

export const IDEMPOTENCY_KEY_HEADER = 'idempotency-key';
export const IDEMPOTENT_REPLAYED_HEADER = 'idempotent-replayed';

export const OrderCreateHeaders = Type.Object({
  [IDEMPOTENCY_KEY_HEADER]: Type.Optional(
    Type.String({
      minLength: 1,
      maxLength: 200,
      pattern: '^[\\x21-\\x7E]+$',
      description:
        'Client-chosen key (printable ASCII, no spaces); a retry with the same key and body returns the first response',
    }),
  ),
});
export type OrderCreateHeaders = Static<typeof OrderCreateHeaders>;

export const OrderItem = Type.Object(
  {
    productId: Uuid,
    sku: Sku,
    name: Type.String(),
    quantity: Type.Integer({ minimum: 1, maximum: MAX_ITEM_QUANTITY }),
    unitPriceCents: PriceCents,
    lineTotalCents: Type.Integer({ minimum: 0 }),
  },
  { additionalProperties: false },
);
export type OrderItem = Static<typeof OrderItem>;

export const ORDER_STATUSES = ['confirmed'] as const;

export const Order = Type.Object(
  {
    id: Uuid,
    customerEmail: Type.String({ format: 'email' }),
    status: Type.Literal('confirmed'),
    items: Type.Array(OrderItem, { minItems: 1 }),
    totalCents: Type.Integer({ minimum: 0 }),
    currency: Currency,
    createdAt: IsoDateTime,
  },
  { additionalProperties: false },
);
export type Order = Static<typeof Order>;

/** GET /orders?limit&offset, newest first. */
export const OrderListQuery = PageQuery;
export type OrderListQuery = Static<typeof OrderListQuery>;

export const OrderListResponse = PageOf(Order);
export type OrderListResponse = Static<typeof OrderListResponse>;
