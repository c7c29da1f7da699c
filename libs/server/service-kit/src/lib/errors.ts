import { STATUS_CODES } from 'node:http';
import type { FastifyError, FastifyInstance, preHandlerHookHandler } from 'fastify';
import { redactCredentials } from './config.js';

export interface FieldError {
  field: string;
  message: string;
}

/** The body of every error response. `details` only on validation errors. */
export interface ErrorBody {
  statusCode: number;
  error: string;
  message: string;
  details?: FieldError[];
}

/** Throw from a handler to answer with a specific status and client-facing message. */
export class HttpError extends Error {
  readonly statusCode: number;
  readonly details?: FieldError[];

  constructor(statusCode: number, message: string, details?: FieldError[]) {
    super(message);
    this.name = 'HttpError';
    this.statusCode = statusCode;
    this.details = details;
  }
}

/** A downstream service answered with a non-2xx status that is not worth retrying (or retries ran out on 500). */
export class DownstreamError extends Error {
  readonly status: number;
  readonly body: unknown;
  readonly method: string;
  readonly url: string;

  constructor(method: string, url: string, status: number, body: unknown) {
    // Error messages end up in logs: a base URL with user:password@ must not take them along.
    const safeUrl = redactCredentials(url);
    super(`${method} ${safeUrl} answered ${status} ${STATUS_CODES[status] ?? ''}`.trim());
    this.name = 'DownstreamError';
    this.method = method;
    this.url = safeUrl;
    this.status = status;
    this.body = body;
  }
}

/**
 * No usable answer from a downstream service: connection failure, timeout, or 502/503/504 after
 * every allowed attempt. `status` is set when the last attempt got one of those statuses.
 */
export class DownstreamUnavailableError extends Error {
  readonly method: string;
  readonly url: string;
  readonly attempts: number;
  readonly status?: number;

  constructor(
    method: string,
    url: string,
    attempts: number,
    reason: string,
    options?: { cause?: unknown; status?: number },
  ) {
    const safeUrl = redactCredentials(url);
    super(
      `${method} ${safeUrl} unavailable after ${attempts} attempt${attempts === 1 ? '' : 's'}: ${redactCredentials(reason)}`,
      {
        cause: options?.cause,
      },
    );
    this.name = 'DownstreamUnavailableError';
    this.method = method;
    this.url = safeUrl;
    this.attempts = attempts;
    this.status = options?.status;
  }
}

interface AjvLikeError {
  instancePath?: string;
  message?: string;
  params?: Record<string, unknown>;
}

/** ajv error → `{field, message}` with the field as a dotted path prefixed by its location (body.items.0.quantity). */
export function fieldErrorsFrom(validation: AjvLikeError[], context: string | undefined): FieldError[] {
  return validation.map((e) => {
    const segments = (e.instancePath ?? '')
      .split('/')
      .filter(Boolean)
      .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
    const named = e.params?.['missingProperty'] ?? e.params?.['additionalProperty'];
    if (typeof named === 'string') segments.push(named);
    const field = [context, ...segments].filter(Boolean).join('.') || '(root)';
    return { field, message: e.message ?? 'is invalid' };
  });
}

function statusText(status: number): string {
  return STATUS_CODES[status] ?? 'Error';
}

/**
 * Maps anything thrown in a request to a JSON error body. 4xx keep their message (it tells the
 * client what to fix); 5xx get only the generic status text so internals never leak.
 */
export function toErrorBody(error: unknown): ErrorBody {
  const err = (error ?? {}) as Partial<FastifyError> & { details?: FieldError[] };
  if (Array.isArray(err.validation)) {
    return {
      statusCode: 400,
      error: statusText(400),
      message: 'Request validation failed',
      details: fieldErrorsFrom(err.validation as AjvLikeError[], err.validationContext),
    };
  }
  let status = typeof err.statusCode === 'number' ? err.statusCode : 500;
  if (error instanceof DownstreamUnavailableError) status = 503;
  else if (error instanceof DownstreamError) status = 502;
  if (!Number.isInteger(status) || status < 400 || status > 599) status = 500;

  if (status >= 500) return { statusCode: status, error: statusText(status), message: statusText(status) };
  const body: ErrorBody = {
    statusCode: status,
    error: statusText(status),
    message: typeof err.message === 'string' && err.message !== '' ? err.message : statusText(status),
  };
  if (Array.isArray(err.details)) body.details = err.details;
  return body;
}

export function registerErrorHandler(app: FastifyInstance): void {
  app.setErrorHandler((error, request, reply) => {
    const body = toErrorBody(error);
    if (body.statusCode >= 500) request.log.error({ err: error }, 'request failed');
    else request.log.info({ statusCode: body.statusCode, reason: body.message }, 'request rejected');
    return reply.code(body.statusCode).type('application/json; charset=utf-8').send(body);
  });
}

/** JSON 404s; `preHandler` (the rate limiter) keeps unknown-URL floods from being free. */
export function registerNotFoundHandler(app: FastifyInstance, preHandler?: preHandlerHookHandler): void {
  app.setNotFoundHandler({ preHandler }, (request, reply) => {
    const body: ErrorBody = {
      statusCode: 404,
      error: statusText(404),
      message: `Route ${request.method} ${request.url.split('?')[0]} not found`,
    };
    return reply.code(404).send(body);
  });
}
