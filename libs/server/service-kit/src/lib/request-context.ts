import { AsyncLocalStorage, AsyncResource } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';

export const REQUEST_ID_HEADER = 'x-request-id';

export interface RequestContext {
  requestId: string;
}

const storage = new AsyncLocalStorage<RequestContext>();

/** The context of the HTTP request being handled, if any (undefined outside a request). */
export function getRequestContext(): RequestContext | undefined {
  return storage.getStore();
}

/** The current request's id, if any: what createHttpClient forwards as x-request-id. */
export function currentRequestId(): string | undefined {
  return storage.getStore()?.requestId;
}

/** Runs `fn` with `context` as the current request context (jobs, consumers, tests). */
export function runWithRequestContext<T>(context: RequestContext, fn: () => T): T {
  return storage.run(context, fn);
}

// Ids end up in log lines and response headers: accept only a conservative charset and length so a
// client cannot inject log content or oversized headers; anything else gets a fresh id.
const ACCEPTABLE_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** Fastify `genReqId`: reuse a well-formed incoming x-request-id, otherwise generate a UUID. */
export function requestIdFrom(headers: Record<string, string | string[] | undefined>): string {
  const incoming = headers[REQUEST_ID_HEADER];
  const value = Array.isArray(incoming) ? incoming[0] : incoming;
  return value && ACCEPTABLE_REQUEST_ID.test(value) ? value : randomUUID();
}

const asyncResourceKey = Symbol('slipway.requestContextResource');
type RequestWithResource = FastifyRequest & { [asyncResourceKey]?: AsyncResource };

/**
 * Echoes the request id on the response and makes it the current request context for hooks and
 * handlers. Must be registered on the root instance before any other hook.
 */
export function registerRequestContext(app: FastifyInstance): void {
  app.addHook('onRequest', (request, reply, done) => {
    reply.header(REQUEST_ID_HEADER, request.id);
    storage.run({ requestId: request.id }, () => {
      const resource = new AsyncResource('slipway-request-context');
      (request as RequestWithResource)[asyncResourceKey] = resource;
      resource.runInAsyncScope(done, request.raw);
    });
  });
  // Body parsing resumes from the socket's 'end' event, which runs outside the context entered in
  // onRequest (nodejs/node#34430), so re-enter it before validation and the handler.
  app.addHook('preValidation', (request, _reply, done) => {
    const resource = (request as RequestWithResource)[asyncResourceKey];
    if (resource) resource.runInAsyncScope(done, request.raw);
    else done();
  });
}
