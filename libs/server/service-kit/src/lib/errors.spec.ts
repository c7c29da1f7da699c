import { DownstreamError, DownstreamUnavailableError, HttpError, fieldErrorsFrom, toErrorBody } from './errors.js';
import { createService, type Service } from './service.js';
import { logCapture } from './test-support/servers.js';

describe('error responses', () => {
  let service: Service;
  const logs = logCapture();

  beforeAll(async () => {
    service = await createService({
      name: 'errors-test',
      logger: { level: 'info' },
      logStream: logs.stream,
      rateLimit: false,
    });
    const { app } = service;
    app.get('/crash', async () => {
      throw new Error('connection to postgres://app:pw@db failed at /srv/app/db.ts:12');
    });
    app.get('/not-found', async () => {
      throw new HttpError(404, 'product 42 not found');
    });
    app.get('/unprocessable', async () => {
      throw new HttpError(422, 'unknown product', [
        { field: 'items.0.productId', message: 'product p-9 does not exist' },
      ]);
    });
    app.get('/downstream-down', async () => {
      throw new DownstreamUnavailableError('GET', 'http://catalog/products', 3, 'ECONNREFUSED');
    });
    app.get('/downstream-error', async () => {
      throw new DownstreamError('GET', 'http://catalog/products', 500, { secret: 'internal detail' });
    });
    app.get('/thrown-string', async () => {
      throw 'a bare string';
    });
    app.post(
      '/products',
      {
        schema: {
          body: {
            type: 'object',
            required: ['sku', 'priceCents'],
            additionalProperties: false,
            properties: {
              sku: { type: 'string', minLength: 1 },
              priceCents: { type: 'integer', minimum: 0 },
              items: {
                type: 'array',
                items: { type: 'object', properties: { quantity: { type: 'integer', maximum: 100 } } },
              },
            },
          },
        },
      },
      async () => ({ ok: true }),
    );
    app.get(
      '/products',
      { schema: { querystring: { type: 'object', properties: { limit: { type: 'integer', maximum: 100 } } } } },
      async () => ({ ok: true }),
    );
    await service.app.ready();
  });

  afterAll(() => service.shutdown());

  it('answers 5xx with a generic message and no stack, and logs the real error', async () => {
    const res = await service.app.inject({ method: 'GET', url: '/crash', headers: { 'x-request-id': 'crash-1' } });
    expect(res.statusCode).toBe(500);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(res.json()).toEqual({ statusCode: 500, error: 'Internal Server Error', message: 'Internal Server Error' });
    expect(res.body).not.toMatch(/stack|postgres|\.ts:/);
    const logged = logs.lines().find((l) => l['requestId'] === 'crash-1' && l['msg'] === 'request failed');
    expect((logged?.['err'] as { stack: string }).stack).toContain('connection to postgres');
  });

  it('answers 400 with every field error on body validation failures', async () => {
    const res = await service.app.inject({
      method: 'POST',
      url: '/products',
      payload: { priceCents: -1, color: 'red', items: [{ quantity: 101 }] },
    });
    expect(res.statusCode).toBe(400);
    const body = res.json();
    expect(body).toMatchObject({ statusCode: 400, error: 'Bad Request', message: 'Request validation failed' });
    expect(body.details).toEqual(
      expect.arrayContaining([
        { field: 'body.sku', message: "must have required property 'sku'" },
        { field: 'body.priceCents', message: 'must be >= 0' },
        { field: 'body.items.0.quantity', message: 'must be <= 100' },
      ]),
    );
    expect(res.body).not.toContain('stack');
  });

  it('names the querystring as the location of query errors', async () => {
    const res = await service.app.inject({ method: 'GET', url: '/products?limit=500' });
    expect(res.statusCode).toBe(400);
    expect(res.json().details).toEqual([{ field: 'querystring.limit', message: 'must be <= 100' }]);
  });

  it('answers 400 without a stack for malformed JSON', async () => {
    const res = await service.app.inject({
      method: 'POST',
      url: '/products',
      payload: '{"sku":',
      headers: { 'content-type': 'application/json' },
    });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({ statusCode: 400, error: 'Bad Request', message: expect.stringMatching(/JSON/) });
  });

  it('keeps the message of deliberate 4xx errors and their details', async () => {
    expect((await service.app.inject('/not-found')).json()).toEqual({
      statusCode: 404,
      error: 'Not Found',
      message: 'product 42 not found',
    });
    expect((await service.app.inject('/unprocessable')).json()).toEqual({
      statusCode: 422,
      error: 'Unprocessable Entity',
      message: 'unknown product',
      details: [{ field: 'items.0.productId', message: 'product p-9 does not exist' }],
    });
  });

  it('maps downstream failures to 503 and 502 without leaking their details', async () => {
    const down = await service.app.inject('/downstream-down');
    expect(down.statusCode).toBe(503);
    expect(down.json()).toEqual({ statusCode: 503, error: 'Service Unavailable', message: 'Service Unavailable' });
    const bad = await service.app.inject('/downstream-error');
    expect(bad.statusCode).toBe(502);
    expect(bad.body).not.toContain('internal detail');
  });

  it('handles non-Error throws and unknown routes as JSON', async () => {
    expect((await service.app.inject('/thrown-string')).json()).toEqual({
      statusCode: 500,
      error: 'Internal Server Error',
      message: 'Internal Server Error',
    });
    const missing = await service.app.inject('/nowhere?x=1');
    expect(missing.statusCode).toBe(404);
    expect(missing.json()).toEqual({ statusCode: 404, error: 'Not Found', message: 'Route GET /nowhere not found' });
  });
});

describe('toErrorBody', () => {
  it('treats out-of-range or missing status codes as 500', () => {
    expect(toErrorBody(Object.assign(new Error('x'), { statusCode: 302 })).statusCode).toBe(500);
    expect(toErrorBody(Object.assign(new Error('x'), { statusCode: 'nope' })).statusCode).toBe(500);
    expect(toErrorBody(undefined)).toEqual({
      statusCode: 500,
      error: 'Internal Server Error',
      message: 'Internal Server Error',
    });
  });

  it('falls back to the status text when a 4xx has no message', () => {
    expect(toErrorBody({ statusCode: 429 })).toEqual({
      statusCode: 429,
      error: 'Too Many Requests',
      message: 'Too Many Requests',
    });
    expect(toErrorBody({ statusCode: 499, message: '' })).toEqual({
      statusCode: 499,
      error: 'Error',
      message: 'Error',
    });
  });

  it('builds field paths from ajv errors, with escaped pointers and a root fallback', () => {
    expect(
      fieldErrorsFrom(
        [
          { instancePath: '/a~1b/c~0d', message: 'bad' },
          { instancePath: '', params: { additionalProperty: 'extra' }, message: 'must NOT have additional properties' },
          { instancePath: '' },
        ],
        undefined,
      ),
    ).toEqual([
      { field: 'a/b.c~d', message: 'bad' },
      { field: 'extra', message: 'must NOT have additional properties' },
      { field: '(root)', message: 'is invalid' },
    ]);
  });

  it('exposes the downstream status, body and attempts on the typed errors', () => {
    const e = new DownstreamError('POST', 'http://x/y', 418, { a: 1 });
    expect([e.name, e.status, e.body, e.message]).toEqual([
      'DownstreamError',
      418,
      { a: 1 },
      "POST http://x/y answered 418 I'm a Teapot",
    ]);
    const cause = new Error('ECONNRESET');
    const u = new DownstreamUnavailableError('GET', 'http://x/y', 1, 'socket hang up', { cause });
    expect([u.name, u.attempts, u.cause, u.message]).toEqual([
      'DownstreamUnavailableError',
      1,
      cause,
      'GET http://x/y unavailable after 1 attempt: socket hang up',
    ]);
    expect(new DownstreamError('GET', 'http://x', 599, null).message).toBe('GET http://x answered 599');
    const withCredentials = new DownstreamError('GET', 'http://svc:pw123@catalog/p', 500, null);
    expect([withCredentials.url, withCredentials.message]).toEqual([
      'http://svc:***@catalog/p',
      'GET http://svc:***@catalog/p answered 500 Internal Server Error',
    ]);
    const unavailable = new DownstreamUnavailableError(
      'GET',
      'http://svc:pw123@catalog/p',
      2,
      'connect to http://svc:pw123@catalog failed',
    );
    expect(unavailable.message).not.toContain('pw123');
  });
});
