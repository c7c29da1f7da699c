import { DownstreamError, DownstreamUnavailableError } from './errors.js';
import { createHttpClient } from './http-client.js';
import { runWithRequestContext } from './request-context.js';
import { closedPort, sendJson, startTestServer, type TestServer } from './test-support/servers.js';

describe('createHttpClient against real local servers', () => {
  const servers: TestServer[] = [];
  async function serve(handler: Parameters<typeof startTestServer>[0]): Promise<TestServer> {
    const server = await startTestServer(handler);
    servers.push(server);
    return server;
  }
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((s) => s.close()));
  });

  it('sends and parses JSON, keeps the base path and encodes the query', async () => {
    const server = await serve((req, res) =>
      sendJson(res, req.method === 'POST' ? 201 : 200, {
        method: req.method,
        url: req.url,
        received: req.body ? JSON.parse(req.body) : null,
      }),
    );
    const client = createHttpClient(`${server.url}/api/catalog/`, {
      headers: { 'x-api-key': 'k1' },
    });
    expect(client.baseUrl).toBe(`${server.url}/api/catalog`);

    const got = await client.get('/products', {
      query: { q: 'blue mug', limit: 5, skip: undefined, none: null },
    });
    expect(got).toEqual({
      method: 'GET',
      url: '/api/catalog/products?q=blue+mug&limit=5',
      received: null,
    });

    const created = await client.request<{ received: unknown }>('POST', 'products', { body: { sku: 'A-1' } });
    expect(created.status).toBe(201);
    expect(created.body.received).toEqual({ sku: 'A-1' });

    expect(await client.post('/x', { a: 1 })).toMatchObject({
      method: 'POST',
      received: { a: 1 },
    });
    expect(await client.put('/x', { a: 2 })).toMatchObject({
      method: 'PUT',
      received: { a: 2 },
    });
    expect(await client.patch('/x', { a: 3 })).toMatchObject({
      method: 'PATCH',
      received: { a: 3 },
    });
    expect(await client.delete('/x?force=1', { query: { soft: false } })).toMatchObject({
      method: 'DELETE',
      url: '/api/catalog/x?force=1&soft=false',
    });

    const post = server.requests[1];
    expect(post.headers['content-type']).toBe('application/json');
    expect(post.headers['accept']).toBe('application/json');
    expect(post.headers['x-api-key']).toBe('k1');
    expect(server.requests[0].headers['content-type']).toBeUndefined();
  });

  it('returns text bodies as strings and empty bodies as undefined', async () => {
    const server = await serve((req, res) => {
      if (req.url === '/text') {
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.end('plain words');
      } else if (req.url === '/bad-json') {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('{not json');
      } else {
        res.writeHead(204);
        res.end();
      }
    });
    const client = createHttpClient(server.url);
    expect(await client.get('/text')).toBe('plain words');
    expect(await client.get('/bad-json')).toBe('{not json');
    expect(await client.delete('/empty')).toBeUndefined();
  });

  it('forwards the current request id and lets explicit headers win', async () => {
    const server = await serve((_req, res) => sendJson(res, 200, {}));
    const client = createHttpClient(server.url);
    await runWithRequestContext({ requestId: 'req-42' }, () => client.get('/a'));
    await client.get('/b');
    await runWithRequestContext({ requestId: 'req-43' }, () =>
      client.get('/c', { headers: { 'x-request-id': 'explicit' } }),
    );
    expect(server.requests.map((r) => r.headers['x-request-id'])).toEqual(['req-42', undefined, 'explicit']);
  });

  it('throws DownstreamError with status and body for a non-retryable status, after one attempt', async () => {
    const server = await serve((req, res) =>
      sendJson(res, req.url === '/missing' ? 404 : 500, {
        statusCode: 404,
        error: 'Not Found',
        message: 'product x not found',
      }),
    );
    const client = createHttpClient(server.url, {
      retries: 3,
      retryDelayMs: 1,
    });
    const error = await client.get('/missing').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DownstreamError);
    expect(error).toMatchObject({
      status: 404,
      method: 'GET',
      url: `${server.url}/missing`,
      body: { message: 'product x not found' },
      message: `GET ${server.url}/missing answered 404 Not Found`,
    });
    await expect(client.get('/boom')).rejects.toMatchObject({
      name: 'DownstreamError',
      status: 500,
    });
    expect(server.requests).toHaveLength(2);
  });

  it('retries 502/503/504 with backoff until a success', async () => {
    const statuses = [503, 502, 504, 200];
    const server = await serve((_req, res, i) => sendJson(res, statuses[i], { attempt: i + 1 }));
    const client = createHttpClient(server.url, {
      retries: 3,
      retryDelayMs: 20,
    });
    const started = Date.now();
    expect(await client.get('/flaky')).toEqual({ attempt: 4 });
    // Three backoffs of at least 10, 20 and 40 ms (50-100% jitter of 20, 40, 80).
    expect(Date.now() - started).toBeGreaterThanOrEqual(70);
    expect(server.requests).toHaveLength(4);
  });

  it('stops after the bounded number of attempts with DownstreamUnavailableError carrying the last status', async () => {
    const server = await serve((_req, res) => sendJson(res, 503, { message: 'down' }));
    const client = createHttpClient(server.url, {
      retries: 2,
      retryDelayMs: 1,
    });
    const error = (await client.get('/x').catch((e: unknown) => e)) as DownstreamUnavailableError;
    expect(error).toBeInstanceOf(DownstreamUnavailableError);
    expect(error.attempts).toBe(3);
    expect(error.status).toBe(503);
    expect(error.message).toBe(`GET ${server.url}/x unavailable after 3 attempts: answered 503`);
    expect(error.cause).toBeInstanceOf(DownstreamError);
    expect(server.requests).toHaveLength(3);
  });

  it('caps the backoff delay at maxRetryDelayMs', async () => {
    const server = await serve((_req, res) => sendJson(res, 503, {}));
    const client = createHttpClient(server.url, {
      retries: 4,
      retryDelayMs: 1_000,
      maxRetryDelayMs: 10,
    });
    const started = Date.now();
    await expect(client.get('/x')).rejects.toBeInstanceOf(DownstreamUnavailableError);
    // Uncapped, the four backoffs would take at least 0.5 + 1 + 2 + 4 s.
    expect(Date.now() - started).toBeLessThan(3_000);
    expect(server.requests).toHaveLength(5);
  });

  it('times out each attempt and retries idempotent calls', async () => {
    const server = await serve((_req, res, i) => {
      if (i < 2) return; // never answers: the client must give up on its own
      sendJson(res, 200, { attempt: i + 1 });
    });
    const client = createHttpClient(server.url, {
      timeoutMs: 100,
      retries: 2,
      retryDelayMs: 1,
    });
    const started = Date.now();
    expect(await client.get('/slow')).toEqual({ attempt: 3 });
    const elapsed = Date.now() - started;
    expect(elapsed).toBeGreaterThanOrEqual(190);
    expect(elapsed).toBeLessThan(4_000);
  });

  it('reports a timeout when every attempt hangs', async () => {
    const server = await serve(() => undefined);
    const client = createHttpClient(server.url, {
      timeoutMs: 50,
      retries: 1,
      retryDelayMs: 1,
    });
    const error = (await client.get('/hang', { timeoutMs: 60 }).catch((e: unknown) => e)) as DownstreamUnavailableError;
    expect(error).toBeInstanceOf(DownstreamUnavailableError);
    expect(error.message).toMatch(/unavailable after 2 attempts: timed out after 60 ms$/);
    expect(error.status).toBeUndefined();
    expect(server.requests).toHaveLength(2);
  });

  it('does not retry POST unless retryNonIdempotent is set', async () => {
    const server = await serve((_req, res) => sendJson(res, 503, {}));
    const client = createHttpClient(server.url, {
      retries: 2,
      retryDelayMs: 1,
    });
    await expect(client.post('/orders', { a: 1 })).rejects.toMatchObject({
      attempts: 1,
      status: 503,
    });
    expect(server.requests).toHaveLength(1);

    await expect(client.post('/orders', { a: 1 }, { retryNonIdempotent: true })).rejects.toMatchObject({ attempts: 3 });
    expect(server.requests).toHaveLength(4);

    const retrying = createHttpClient(server.url, {
      retries: 1,
      retryDelayMs: 1,
      retryNonIdempotent: true,
    });
    await expect(retrying.post('/orders', {}, { retries: 0 })).rejects.toMatchObject({ attempts: 1 });
    await expect(retrying.patch('/orders/1', {})).rejects.toMatchObject({
      attempts: 2,
    });
    expect(server.requests).toHaveLength(7);
  });

  it('reports refused connections as DownstreamUnavailableError after the retries', async () => {
    const port = await closedPort();
    const client = createHttpClient(`http://127.0.0.1:${port}`, {
      retries: 1,
      retryDelayMs: 1,
    });
    const error = (await client.get('/x').catch((e: unknown) => e)) as DownstreamUnavailableError;
    expect(error).toBeInstanceOf(DownstreamUnavailableError);
    expect(error.attempts).toBe(2);
    expect(error.message).toMatch(/ECONNREFUSED/);
  });

  it('retries when the connection drops mid-response', async () => {
    const server = await serve((req, res, i) => {
      if (i === 0) {
        res.writeHead(200, {
          'content-type': 'application/json',
          'content-length': '100',
        });
        res.write('{"partial":');
        req.socket.destroy();
        return;
      }
      sendJson(res, 200, { ok: true });
    });
    const client = createHttpClient(server.url, {
      retries: 1,
      retryDelayMs: 1,
    });
    expect(await client.get('/x')).toEqual({ ok: true });
    expect(server.requests).toHaveLength(2);
  });

  it('gives up at once when the caller aborts, without retrying', async () => {
    const controller = new AbortController();
    // Abort once the request has reached the server (not after a fixed delay, which a loaded machine
    // can outrun), so the assertion below is about retries and not about timing.
    const server = await serve(() => controller.abort(new Error('caller gave up')));
    const client = createHttpClient(server.url, {
      timeoutMs: 5_000,
      retries: 3,
    });
    await expect(client.get('/hang', { signal: controller.signal })).rejects.toThrow('caller gave up');
    expect(server.requests).toHaveLength(1);
  });

  it('rejects invalid base URLs and options with the value and the fix', () => {
    expect(() => createHttpClient('127.0.0.1:3101')).toThrow(
      'createHttpClient: base URL "127.0.0.1:3101" is not an absolute http(s) URL; pass e.g. http://127.0.0.1:3101',
    );
    expect(() => createHttpClient('ftp://127.0.0.1')).toThrow(/not an absolute http\(s\) URL/);
    expect(() => createHttpClient('http://127.0.0.1', { timeoutMs: 0 })).toThrow(
      'timeoutMs must be an integer >= 1, got 0',
    );
    expect(() => createHttpClient('http://127.0.0.1', { retries: -1 })).toThrow(
      'retries must be an integer >= 0, got -1',
    );
    expect(() => createHttpClient('http://127.0.0.1', { retryDelayMs: 1.5 })).toThrow(/retryDelayMs/);
  });

  it('bounds the number of retries even when configured higher', async () => {
    const server = await serve((_req, res) => sendJson(res, 502, {}));
    const client = createHttpClient(server.url, {
      retries: 1_000,
      retryDelayMs: 0,
    });
    await expect(client.get('/x')).rejects.toMatchObject({ attempts: 11 });
    await expect(client.get('/x', { retries: 50 })).rejects.toMatchObject({
      attempts: 11,
    });
    expect(server.requests).toHaveLength(22);
  });
});
