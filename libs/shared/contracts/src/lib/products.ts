import { Type, type Static } from '@sinclair/typebox';
import { Currency, IsoDateTime, PageQuery, Uuid } from './common.js';
import { PageOf } from './schema-helpers.js';

export const Sku = Type.String({
  minLength: 1,
  maxLength: 64,
  pattern: '^[A-Za-z0-9][A-Za-z0-9._-]*$',
  description: 'Stock keeping unit: letters, digits, ".", "_" and "-"; unique per catalog',
});
export const PriceCents = Type.Integer({ minimum: 0, maximum: 100_000_000 });
export const Stock = Type.Integer({ minimum: 0, maximum: 1_000_000 });

export const Product = Type.Object(
  {
    id: Uuid,
    sku: Sku,
    name: Type.String({ minLength: 1, maxLength: 200 }),
    description: Type.String({ maxLength: 2000 }),
    priceCents: PriceCents,
    currency: Currency,
    stock: Stock,
    createdAt: IsoDateTime,
    updatedAt: IsoDateTime,
  },
  { additionalProperties: false },
);
export type Product = Static<typeof Product>;

/** GET /products?limit&offset&q: q matches name or sku, case-insensitive substring. */
export const ProductListQuery = Type.Composite(
  [PageQuery, Type.Object({ q: Type.Optional(Type.String({ maxLength: 100 })) })],
  { additionalProperties: false },
);
export type ProductListQuery = Static<typeof ProductListQuery>;

export const ProductListResponse = PageOf(Product);
export type ProductListResponse = Static<typeof ProductListResponse>;

/** POST /products (auth). 409 when the sku exists already. */
export const ProductCreateBody = Type.Object(
  {
    sku: Sku,
    name: Type.String({ minLength: 1, maxLength: 200 }),
    description: Type.Optional(Type.String({ maxLength: 2000 })),
    priceCents: PriceCents,
    currency: Currency,
    stock: Stock,
  },
  { additionalProperties: false },
);
export type ProductCreateBody = Static<typeof ProductCreateBody>;

/** PUT /products/:id (auth): a full replacement with the same shape as the create body. */
export const ProductUpdateBody = ProductCreateBody;
export type ProductUpdateBody = Static<typeof ProductUpdateBody>;
