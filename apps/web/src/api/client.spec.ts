import { ApiError, createApiClient, toApiError } from './client';
import { createFakeFetch, json, pending, unexpected } from '../testing/fake-fetch';
import { health, order, productPage, product } from '../testing/fixtures';

describe('createApiClient', () => {
  describe('listProducts', () => {
    it('asks the catalog through /api/catalog with limit, offset and q', async () => {
      const page = productPage([product()], {
        total: 31,
        limit: 10,
        offset: 20,
      });
      const { fetch, calls } = createFakeFetch(() => json(200, page));
      const api = createApiClient({ fetch });

      await expect(api.listProducts({ q: 'mug', limit: 10, offset: 20 })).resolves.toEqual(page);

      expect(calls).toHaveLength(1);
      expect(calls[0].method).toBe('GET');
      expect(calls[0].path).toBe('/api/catalog/products');
      expect(Object.fromEntries(calls[0].query)).toEqual({
        q: 'mug',
        limit: '10',
        offset: '20',
      });
      expect(calls[0].headers['accept']).toBe('application/json');
      expect(calls[0].headers['content-type']).toBeUndefined();
    });

    it('leaves q out when it is empty and prefixes baseUrl', async () => {
      const { fetch, calls } = createFakeFetch(() => json(200, productPage([])));
      await createApiClient({
        fetch,
        baseUrl: 'http://web.example',
      }).listProducts({ q: '', limit: 20, offset: 0 });
      expect(calls[0].url).toBe('http://web.example/api/catalog/products?limit=20&offset=0');
    });

    it('turns an error body into an ApiError with its message, status and details', async () => {
      const { fetch } = createFakeFetch(() =>
        json(400, {
          statusCode: 400,
          error: 'Bad Request',
          message: 'querystring/limit must be <= 100',
          details: [{ field: 'querystring.limit', message: 'must be <= 100' }],
        }),
      );
      const error = await createApiClient({ fetch })
        .listProducts({ q: '', limit: 20, offset: 0 })
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ApiError);
      expect(error).toMatchObject({
        message: 'querystring/limit must be <= 100',
        status: 400,
        details: [{ field: 'querystring.limit', message: 'must be <= 100' }],
      });
      expect((error as ApiError).outcomeUnknown).toBe(false);
    });

    it('names the request and status when the error body is not JSON', async () => {
      const { fetch } = createFakeFetch(() => ({
        status: 502,
        rawBody: '<html>Bad gateway</html>',
      }));
      const error = (await createApiClient({ fetch })
        .listProducts({ q: '', limit: 20, offset: 0 })
        .catch((e: unknown) => e)) as ApiError;
      expect(error.message).toBe('GET /api/catalog/products?limit=20&offset=0 answered 502');
      expect(error.status).toBe(502);
      expect(error.details).toEqual([]);
      expect(error.outcomeUnknown).toBe(true);
    });

    it('rejects a 200 that is not JSON, naming the content type', async () => {
      const { fetch } = createFakeFetch(() => ({
        status: 200,
        rawBody: '<!doctype html>',
        headers: { 'content-type': 'text/html' },
      }));
      await expect(
        createApiClient({ fetch }).listProducts({
          q: '',
          limit: 20,
          offset: 0,
        }),
      ).rejects.toThrow('GET /api/catalog/products?limit=20&offset=0 answered 200 with text/html instead of JSON');
    });

    it('rejects an empty 200 without a content type', async () => {
      const { fetch } = createFakeFetch(() => ({ status: 200 }));
      await expect(
        createApiClient({ fetch }).listProducts({
          q: '',
          limit: 20,
          offset: 0,
        }),
      ).rejects.toThrow('answered 200 with no content type instead of JSON');
    });

    it('reports a network failure as status 0 with the cause', async () => {
      const api = createApiClient({
        fetch: () => Promise.reject(new TypeError('Failed to fetch')),
      });
      const error = (await api.listProducts({ q: '', limit: 20, offset: 0 }).catch((e: unknown) => e)) as ApiError;
      expect(error).toBeInstanceOf(ApiError);
      expect(error.status).toBe(0);
      expect(error.outcomeUnknown).toBe(true);
      expect(error.message).toBe('GET /api/catalog/products?limit=20&offset=0 failed: Failed to fetch');
    });

    it('reports a non-Error rejection as text', async () => {
      const api = createApiClient({
        fetch: () => Promise.reject('socket hang up'),
      });
      await expect(api.listProducts({ q: '', limit: 20, offset: 0 })).rejects.toThrow('failed: socket hang up');
    });

    it('gives up after timeoutMs and says so', async () => {
      const { fetch, calls } = createFakeFetch(pending);
      const api = createApiClient({ fetch, timeoutMs: 20 });
      const error = (await api.listProducts({ q: '', limit: 20, offset: 0 }).catch((e: unknown) => e)) as ApiError;
      expect(error.status).toBe(0);
      expect(error.message).toBe('GET /api/catalog/products?limit=20&offset=0 failed: no answer within 20 ms');
      expect(calls[0].signal?.aborted).toBe(true);
    });

    it('passes a caller abort through untouched instead of reporting a failure', async () => {
      const { fetch, calls } = createFakeFetch(pending);
      const controller = new AbortController();
      const result = createApiClient({ fetch }).listProducts({ q: '', limit: 20, offset: 0 }, controller.signal);
      controller.abort();
      const error = await result.catch((e: unknown) => e);
      expect(error).not.toBeInstanceOf(ApiError);
      expect((error as Error).name).toBe('AbortError');
      expect(calls[0].signal?.aborted).toBe(true);
    });

    it('does not even wait for an answer when the caller signal is already aborted', async () => {
      const { fetch, calls } = createFakeFetch(pending);
      const controller = new AbortController();
      controller.abort();
      await expect(
        createApiClient({ fetch }).listProducts({ q: '', limit: 20, offset: 0 }, controller.signal),
      ).rejects.toHaveProperty('name', 'AbortError');
      expect(calls[0].signal?.aborted).toBe(true);
    });
  });

  describe('createOrder', () => {
    const body = {
      customerEmail: 'ada@example.com',
      items: [{ productId: product().id, quantity: 2 }],
    };

    it('posts JSON with the Idempotency-Key header to /api/orders/orders', async () => {
      const created = order({ totalCents: 2500 });
      const { fetch, calls } = createFakeFetch(() => json(201, created));
      await expect(createApiClient({ fetch }).createOrder(body, 'key-1')).resolves.toEqual({
        order: created,
        replayed: false,
      });
      expect(calls[0]).toMatchObject({
        method: 'POST',
        path: '/api/orders/orders',
        body,
        headers: {
          'idempotency-key': 'key-1',
          'content-type': 'application/json',
        },
      });
    });

    it('reports a replayed answer', async () => {
      const { fetch } = createFakeFetch(() => json(201, order(), { 'Idempotent-Replayed': 'true' }));
      await expect(createApiClient({ fetch }).createOrder(body, 'key-1')).resolves.toHaveProperty('replayed', true);
    });

    it('surfaces a 422 naming the unknown product', async () => {
      const { fetch } = createFakeFetch(() =>
        json(422, {
          statusCode: 422,
          error: 'Unprocessable Entity',
          message: 'Unknown product 42',
        }),
      );
      await expect(createApiClient({ fetch }).createOrder(body, 'k')).rejects.toMatchObject({
        status: 422,
        message: 'Unknown product 42',
      });
    });
  });

  describe('health', () => {
    it.each([
      ['web', '/health'],
      ['catalog', '/api/catalog/health'],
      ['orders', '/api/orders/health'],
    ] as const)('reads %s health from %s', async (service, path) => {
      const { fetch, calls } = createFakeFetch((req) =>
        req.path === path ? json(200, health(service)) : unexpected(req),
      );
      await expect(createApiClient({ fetch }).getHealth(service)).resolves.toEqual(health(service));
      expect(calls.map((c) => c.path)).toEqual([path]);
    });

    it('accepts a 503 health body as the description of a degraded service', async () => {
      const degraded = health('catalog', {
        status: 'degraded',
        checks: { db: { status: 'down', error: 'gone' } },
      });
      const { fetch } = createFakeFetch(() => json(503, degraded));
      await expect(createApiClient({ fetch }).getHealth('catalog')).resolves.toEqual(degraded);
    });

    it('accepts a 503 readiness answer and reads /health/readiness under the prefix', async () => {
      const notReady = {
        status: 'not-ready',
        failing: ['db'],
        checks: { db: { status: 'down' } },
      };
      const { fetch, calls } = createFakeFetch(() => json(503, notReady));
      await expect(createApiClient({ fetch }).getReadiness('orders')).resolves.toEqual(notReady);
      expect(calls[0].path).toBe('/api/orders/health/readiness');
    });

    it('still fails on other statuses', async () => {
      const { fetch } = createFakeFetch(() => ({ status: 500, rawBody: '' }));
      await expect(createApiClient({ fetch }).getReadiness('web')).rejects.toMatchObject({ status: 500 });
    });

    it('refuses a service it does not know', async () => {
      const { fetch } = createFakeFetch(unexpected);
      await expect(createApiClient({ fetch }).getHealth('billing' as 'web')).rejects.toThrow(
        'Unknown service "billing"; expected one of web, catalog, orders',
      );
    });
  });

  it('uses the global fetch when none is given', async () => {
    const original = globalThis.fetch;
    const { fetch, calls } = createFakeFetch(() => json(200, health('web')));
    globalThis.fetch = fetch as typeof globalThis.fetch;
    try {
      await expect(createApiClient().getHealth('web')).resolves.toEqual(health('web'));
      expect(calls).toHaveLength(1);
    } finally {
      globalThis.fetch = original;
    }
  });
});

describe('toApiError', () => {
  it('keeps an ApiError and wraps anything else as "no answer"', () => {
    const original = new ApiError('nope', 422);
    expect(toApiError(original)).toBe(original);
    expect(toApiError(new Error('kaput'))).toMatchObject({
      message: 'kaput',
      status: 0,
      outcomeUnknown: true,
    });
    expect(toApiError('boom')).toMatchObject({ message: 'boom', status: 0 });
  });
});
