import type { FastifyInstance } from 'fastify';
import {
  DEFAULT_PAGE_LIMIT,
  ErrorBody,
  IdParams,
  Product,
  ProductCreateBody,
  ProductListQuery,
  ProductListResponse,
  ProductUpdateBody,
} from '@slipway/contracts';
import { HttpError } from '@slipway/service-kit';
import type { createWriteAuth } from './auth.js';
import { DuplicateSkuError, type ProductsRepository } from './products-repository.js';

export interface ProductsRoutesOptions {
  products: ProductsRepository;
  requireWriteAuth: ReturnType<typeof createWriteAuth>;
}

function notFound(id: string): HttpError {
  return new HttpError(404, `product ${id} not found`);
}

function conflictOn(error: unknown): never {
  if (error instanceof DuplicateSkuError) throw new HttpError(409, error.message);
  throw error;
}

export function registerProductsRoutes(
  app: FastifyInstance,
  { products, requireWriteAuth }: ProductsRoutesOptions,
): void {
  app.get<{ Querystring: ProductListQuery }>(
    '/products',
    {
      schema: {
        querystring: ProductListQuery,
        response: { 200: ProductListResponse, 400: ErrorBody },
      },
    },
    async (request) => {
      const limit = request.query.limit ?? DEFAULT_PAGE_LIMIT;
      const offset = request.query.offset ?? 0;
      const page = await products.list({ limit, offset, q: request.query.q });
      return { ...page, limit, offset };
    },
  );

  app.get<{ Params: IdParams }>(
    '/products/:id',
    {
      schema: {
        params: IdParams,
        response: { 200: Product, 400: ErrorBody, 404: ErrorBody },
      },
    },
    async (request) => {
      const product = await products.get(request.params.id);
      if (!product) throw notFound(request.params.id);
      return product;
    },
  );

  app.post<{ Body: ProductCreateBody }>(
    '/products',
    {
      // onRequest: reject unauthenticated writes before the body is even parsed or validated.
      onRequest: requireWriteAuth,
      schema: {
        body: ProductCreateBody,
        response: {
          201: Product,
          400: ErrorBody,
          401: ErrorBody,
          409: ErrorBody,
        },
      },
    },
    async (request, reply) => {
      const product = await products.create(request.body).catch(conflictOn);
      request.log.info(
        {
          productId: product.id,
          sku: product.sku,
          principal: request.principal,
        },
        'product created',
      );
      return reply.code(201).header('location', `/products/${product.id}`).send(product);
    },
  );

  app.put<{ Params: IdParams; Body: ProductUpdateBody }>(
    '/products/:id',
    {
      // onRequest: reject unauthenticated writes before the body is even parsed or validated.
      onRequest: requireWriteAuth,
      schema: {
        params: IdParams,
        body: ProductUpdateBody,
        response: {
          200: Product,
          400: ErrorBody,
          401: ErrorBody,
          404: ErrorBody,
          409: ErrorBody,
        },
      },
    },
    async (request) => {
      const product = await products.update(request.params.id, request.body).catch(conflictOn);
      if (!product) throw notFound(request.params.id);
      request.log.info({ productId: product.id, principal: request.principal }, 'product updated');
      return product;
    },
  );
}
