import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import {
  DEFAULT_PAGE_LIMIT,
  ErrorBody,
  IDEMPOTENT_REPLAYED_HEADER,
  IdParams,
  Order,
  OrderCreateBody,
  OrderCreateHeaders,
  OrderListQuery,
  OrderListResponse,
} from '@slipway/contracts';
import { HttpError } from '@slipway/service-kit';
import { type Database } from '@slipway/service-kit/database';
import type { CatalogClient } from './catalog-client.js';
import {
  acquireIdempotencyKey,
  IdempotencyStoreUnavailableError,
  requestFingerprint,
  type IdempotencyStore,
} from './idempotency.js';
import { OrdersRepository } from './orders-repository.js';
import { duplicateItems, placeOrder, ServiceUnavailableError } from './place-order.js';

export interface OrdersRoutesOptions {
  database: Database;
  catalog: CatalogClient;
  idempotency: IdempotencyStore;
  idempotencyWaitMs: number;
}

function sendServiceUnavailable(reply: FastifyReply, message: string) {
  return reply.code(503).header('retry-after', '1').send({ statusCode: 503, error: 'Service Unavailable', message });
}

export function registerOrdersRoutes(app: FastifyInstance, options: OrdersRoutesOptions): void {
  const { database, catalog, idempotency, idempotencyWaitMs } = options;
  const orders = new OrdersRepository(database);

  async function createOrder(
    request: FastifyRequest<{
      Body: OrderCreateBody;
      Headers: OrderCreateHeaders;
    }>,
    reply: FastifyReply,
  ) {
    const body = request.body;
    const duplicates = duplicateItems(body);
    if (duplicates.length > 0) throw new HttpError(400, 'an order lists the same product more than once', duplicates);

    const key = request.headers['idempotency-key'];
    if (!key) {
      const order = await placeOrder({ catalog, database }, body);
      request.log.info({ orderId: order.id, totalCents: order.totalCents }, 'order created');
      return reply.code(201).header('location', `/orders/${order.id}`).send(order);
    }

    const fingerprint = requestFingerprint(body);
    const outcome = await acquireIdempotencyKey(idempotency, key, fingerprint, {
      waitMs: idempotencyWaitMs,
    });
    if (outcome.kind === 'mismatch') {
      throw new HttpError(
        422,
        `Idempotency-Key ${JSON.stringify(key)} was already used with a different request body; use a new key for a different order`,
      );
    }
    if (outcome.kind === 'busy') {
      reply.header('retry-after', '1');
      throw new HttpError(
        409,
        `a request with Idempotency-Key ${JSON.stringify(key)} is still being processed; retry shortly`,
      );
    }
    if (outcome.kind === 'replay') {
      request.log.info({ idempotencyKeyReplayed: true }, 'idempotent replay');
      return reply
        .code(outcome.response.statusCode)
        .header(IDEMPOTENT_REPLAYED_HEADER, 'true')
        .send(outcome.response.body);
    }

    const { token } = outcome;
    try {
      const order = await placeOrder({ catalog, database }, body, {
        // PostgreSQL store: the order and its stored response commit together, or neither does.
        beforeCommit: idempotency.completesInTransaction
          ? (tx, created) => idempotency.complete(key, token, { statusCode: 201, body: created }, tx)
          : undefined,
      });
      if (!idempotency.completesInTransaction)
        await idempotency.complete(key, token, {
          statusCode: 201,
          body: order,
        });
      request.log.info({ orderId: order.id, totalCents: order.totalCents }, 'order created');
      return reply.code(201).header('location', `/orders/${order.id}`).send(order);
    } catch (error) {
      // Nothing to replay: free the key so the client's retry is processed, not refused.
      await idempotency
        .release(key, token)
        .catch((releaseError: unknown) =>
          request.log.warn({ err: releaseError }, 'could not release the idempotency key; it expires with its lease'),
        );
      throw error;
    }
  }

  app.post<{ Body: OrderCreateBody; Headers: OrderCreateHeaders }>(
    '/orders',
    {
      schema: {
        body: OrderCreateBody,
        headers: OrderCreateHeaders,
        response: {
          201: Order,
          400: ErrorBody,
          409: ErrorBody,
          422: ErrorBody,
          502: ErrorBody,
          503: ErrorBody,
        },
      },
    },
    async (request, reply) => {
      try {
        return await createOrder(request, reply);
      } catch (error) {
        if (error instanceof ServiceUnavailableError) {
          request.log.warn({ reason: error.message }, 'order refused: dependency unavailable');
          return sendServiceUnavailable(reply, error.message);
        }
        if (error instanceof IdempotencyStoreUnavailableError) {
          request.log.error({ err: error }, 'idempotency store unavailable');
          return sendServiceUnavailable(
            reply,
            'the idempotency store is unavailable; retry later with the same Idempotency-Key',
          );
        }
        throw error;
      }
    },
  );

  app.get<{ Querystring: OrderListQuery }>(
    '/orders',
    {
      schema: {
        querystring: OrderListQuery,
        response: { 200: OrderListResponse, 400: ErrorBody },
      },
    },
    async (request) => {
      const limit = request.query.limit ?? DEFAULT_PAGE_LIMIT;
      const offset = request.query.offset ?? 0;
      return { ...(await orders.list(limit, offset)), limit, offset };
    },
  );

  app.get<{ Params: IdParams }>(
    '/orders/:id',
    {
      schema: {
        params: IdParams,
        response: { 200: Order, 400: ErrorBody, 404: ErrorBody },
      },
    },
    async (request) => {
      const order = await orders.get(request.params.id);
      if (!order) throw new HttpError(404, `order ${request.params.id} not found`);
      return order;
    },
  );
}
