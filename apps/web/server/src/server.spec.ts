/**
 * @jest-environment node
 */
import http from 'node:http';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, type Service } from '@slipway/service-kit';
import { loadWebServerConfig } from './config';
import { createWebServer } from './server';
import { IMMUTABLE_CACHE, HTML_CACHE, PLAIN_CACHE, StaticDirError } from './static-files';
import {
  ASSET_JS,
  INDEX_HTML,
  closedPort,
  makeStaticDir,
  sendJson,
  startUpstream,
  type Upstream,
} from './testing/upstream';

const liveness = (url: string) => url === '/health/liveness';

/** An upstream that answers liveness itself and hands everything else to `handler`. */
function upstreamWith(handler: Parameters<typeof startUpstream>[0] = (_req, res) => sendJson(res, 200, { ok: true })) {
  return startUpstream((req, res) => (liveness(req.url) ? sendJson(res, 200, { status: 'ok' }) : handler(req, res)));
}

interface Stack {
  web: Service;
  url: string;
  catalog: Upstream;
  orders: Upstream;
}

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()?.();
});

async function startStack(
  opts: {
    catalog?: Upstream;
    orders?: Upstream;
    env?: Record<string, string>;
    ordersUrl?: string;
  } = {},
): Promise<Stack> {
  const staticDir = await makeStaticDir();
  cleanups.push(staticDir.remove);
  const catalog = opts.catalog ?? (await upstreamWith());
  const orders = opts.orders ?? (await upstreamWith());
  cleanups.push(catalog.close, orders.close);
  const config = loadWebServerConfig({
    PORT: '0',
    HOST: '127.0.0.1',
    CATALOG_URL: catalog.url,
    ORDERS_URL: opts.ordersUrl ?? orders.url,
    STATIC_DIR: staticDir.dir,
    APP_VERSION: '3.1.4',
    APP_REVISION: 'deadbeef',
    // A test that leaves a response unread must not hold the drain for the default 10 s.
    SHUTDOWN_TIMEOUT_MS: '2000',
    ...opts.env,
  });
  const web = await createWebServer(config, { service: { logger: false } });
  const url = await web.listen();
  cleanups.push(() => web.shutdown('test done'));
  return { web, url, catalog, orders };
}

/** A raw node:http request, for what fetch cannot do (hop-by-hop headers, timing of chunks, aborts). */
function rawRequest(url: string, options: http.RequestOptions = {}) {
  return new Promise<{
    status: number;
    headers: http.IncomingHttpHeaders;
    body: string;
  }>((resolve, reject) => {
    const req = http.request(url, options, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('web server: health', () => {
  it('reports name, version, revision and both upstreams on /health and /health/readiness', async () => {
    const { url } = await startStack();

    const health = await fetch(`${url}/health`);
    expect(health.status).toBe(200);
    const body = await health.json();
    expect(body).toMatchObject({
      service: 'web',
      version: '3.1.4',
      revision: 'deadbeef',
      status: 'ok',
    });
    expect(Object.keys(body.checks).sort()).toEqual(['catalog', 'orders']);

    const readiness = await fetch(`${url}/health/readiness`);
    expect(readiness.status).toBe(200);
    expect(await readiness.json()).toMatchObject({
      status: 'ready',
      checks: { catalog: { status: 'up' }, orders: { status: 'up' } },
    });
    expect(await (await fetch(`${url}/health/liveness`)).json()).toEqual({
      status: 'ok',
    });
  });

  it('turns not-ready naming the upstream whose liveness fails', async () => {
    const port = await closedPort();
    const { url } = await startStack({ ordersUrl: `http://127.0.0.1:${port}` });

    const readiness = await fetch(`${url}/health/readiness`);
    expect(readiness.status).toBe(503);
    const body = await readiness.json();
    expect(body.status).toBe('not-ready');
    expect(body.failing).toEqual(['orders']);
    expect(body.checks.catalog.status).toBe('up');
    expect(body.checks.orders.error).toMatch(/unavailable/);
    expect((await (await fetch(`${url}/health`)).json()).status).toBe('degraded');
  });

  it('exposes request metrics labelled by route pattern, not raw URL', async () => {
    const { url } = await startStack();
    await (await fetch(`${url}/api/catalog/products?q=x`)).text();
    await (await fetch(`${url}/order`)).text();
    const metrics = await (await fetch(`${url}/metrics`)).text();
    expect(metrics).toMatch(/http_request_duration_seconds_count\{[^}]*route="\/api\/catalog\/\*"[^}]*\} 1/);
    expect(metrics).toMatch(/http_request_duration_seconds_count\{[^}]*route="\/\*"[^}]*\} 1/);
    expect(metrics).not.toContain('q=x');
  });
});

describe('web server: proxy', () => {
  it('strips /api/catalog, keeps the query and relays status, headers and body', async () => {
    const catalog = await upstreamWith((_req, res) =>
      sendJson(res, 200, { items: [], total: 0, limit: 2, offset: 0 }, { 'x-upstream': 'catalog', etag: '"v1"' }),
    );
    const { url } = await startStack({ catalog });

    const response = await fetch(`${url}/api/catalog/products?q=blue%20mug&limit=2`);

    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({
      items: [],
      total: 0,
      limit: 2,
      offset: 0,
    });
    expect(response.headers.get('x-upstream')).toBe('catalog');
    expect(response.headers.get('etag')).toBe('"v1"');
    const forwarded = catalog.requests.filter((r) => !liveness(r.url));
    expect(forwarded).toHaveLength(1);
    expect(forwarded[0]).toMatchObject({
      method: 'GET',
      url: '/products?q=blue%20mug&limit=2',
    });
    expect(forwarded[0].headers.host).toBe(new URL(catalog.url).host);
  });

  it('forwards the incoming x-request-id, or the one it generated, and echoes it', async () => {
    const { url, orders } = await startStack();

    const given = await fetch(`${url}/api/orders/orders/42`, {
      headers: { 'x-request-id': 'trace-abc.123' },
    });
    expect(given.headers.get('x-request-id')).toBe('trace-abc.123');

    await given.text();
    const generated = await fetch(`${url}/api/orders/orders/43`);
    await generated.text();
    const id = generated.headers.get('x-request-id');
    expect(id).toMatch(/^[0-9a-f-]{36}$/);

    const seen = orders.requests.filter((r) => !liveness(r.url));
    expect(seen.map((r) => [r.url, r.headers['x-request-id']])).toEqual([
      ['/orders/42', 'trace-abc.123'],
      ['/orders/43', id],
    ]);
  });

  it('streams a POST body with its headers and relays the created response', async () => {
    const orders = await upstreamWith((req, res) =>
      sendJson(res, 201, { id: 'o-1', echo: JSON.parse(req.body.toString()) }, { 'idempotent-replayed': 'true' }),
    );
    const { url } = await startStack({ orders });
    const order = {
      customerEmail: 'ada@example.com',
      items: [{ productId: 'p-1', quantity: 2 }],
    };

    const response = await fetch(`${url}/api/orders/orders`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'idempotency-key': 'key-7',
        authorization: 'Bearer t0k3n',
      },
      body: JSON.stringify(order),
    });

    expect(response.status).toBe(201);
    expect(response.headers.get('idempotent-replayed')).toBe('true');
    expect(await response.json()).toEqual({ id: 'o-1', echo: order });
    const [post] = orders.requests.filter((r) => r.method === 'POST');
    expect(post.url).toBe('/orders');
    expect(post.headers).toMatchObject({
      'content-type': 'application/json',
      'idempotency-key': 'key-7',
      authorization: 'Bearer t0k3n',
      'x-forwarded-prefix': '/api/orders',
      'x-forwarded-proto': 'http',
      'x-forwarded-host': new URL(url).host,
      'x-forwarded-for': '127.0.0.1',
    });
  });

  it('relays bodies larger than the JSON body limit without parsing them', async () => {
    const catalog = await upstreamWith((req, res) => sendJson(res, 200, { received: req.body.length }));
    const { url } = await startStack({ catalog });
    const big = Buffer.alloc(3 * 1024 * 1024, 'a');

    const response = await fetch(`${url}/api/catalog/bulk`, {
      method: 'PUT',
      headers: { 'content-type': 'application/octet-stream' },
      body: big,
    });

    expect(await response.json()).toEqual({ received: big.length });
  });

  it('relays a request without a content type and the bare prefix as /', async () => {
    const catalog = await upstreamWith((req, res) =>
      sendJson(res, 200, {
        method: req.method,
        url: req.url,
        body: req.body.toString(),
      }),
    );
    const { url } = await startStack({ catalog });

    const bare = await fetch(`${url}/api/catalog?probe=1`);
    expect(await bare.json()).toEqual({
      method: 'GET',
      url: '/?probe=1',
      body: '',
    });

    const deleted = await fetch(`${url}/api/catalog/products/7`, {
      method: 'DELETE',
    });
    expect(await deleted.json()).toEqual({
      method: 'DELETE',
      url: '/products/7',
      body: '',
    });
  });

  it('keeps a path prefix of the upstream URL in front of the forwarded path', async () => {
    const orders = await upstreamWith((req, res) => sendJson(res, 200, { url: req.url }));
    const { url } = await startStack({
      orders,
      ordersUrl: `${orders.url}/internal/`,
    });
    expect(await (await fetch(`${url}/api/orders/orders?limit=1`)).json()).toEqual({ url: '/internal/orders?limit=1' });
  });

  it('drops hop-by-hop headers in both directions', async () => {
    const catalog = await upstreamWith((_req, res) => {
      res.writeHead(200, {
        'content-type': 'text/plain',
        connection: 'x-upstream-hop',
        'x-upstream-hop': 'secret',
        'x-kept': 'yes',
      });
      res.end('ok');
    });
    const { url } = await startStack({ catalog });

    const response = await rawRequest(`${url}/api/catalog/products`, {
      headers: {
        connection: 'keep-alive, x-client-hop',
        'x-client-hop': 'secret',
        'proxy-authorization': 'Basic eA==',
        te: 'trailers',
      },
    });

    expect(response.body).toBe('ok');
    expect(response.headers['x-kept']).toBe('yes');
    expect(response.headers['x-upstream-hop']).toBeUndefined();
    const [forwarded] = catalog.requests.filter((r) => !liveness(r.url));
    expect(forwarded.headers['x-client-hop']).toBeUndefined();
    expect(forwarded.headers['proxy-authorization']).toBeUndefined();
    expect(forwarded.headers['te']).toBeUndefined();
  });

  it('answers 502 JSON naming the service when the upstream refuses connections', async () => {
    const port = await closedPort();
    const { url } = await startStack({ ordersUrl: `http://127.0.0.1:${port}` });

    const response = await fetch(`${url}/api/orders/orders`);

    expect(response.status).toBe(502);
    expect(response.headers.get('content-type')).toContain('application/json');
    expect(await response.json()).toEqual({
      statusCode: 502,
      error: 'Bad Gateway',
      message: 'orders is unreachable (ECONNREFUSED)',
    });
  });

  it('answers 504 JSON when the upstream sends no response within UPSTREAM_TIMEOUT_MS', async () => {
    const catalog = await upstreamWith(() => undefined /* never answers */);
    const { url } = await startStack({
      catalog,
      env: { UPSTREAM_TIMEOUT_MS: '300ms' },
    });

    const started = performance.now();
    const response = await fetch(`${url}/api/catalog/products`);
    const elapsed = performance.now() - started;

    expect(response.status).toBe(504);
    expect(await response.json()).toEqual({
      statusCode: 504,
      error: 'Gateway Timeout',
      message: 'catalog did not answer within 300 ms',
    });
    expect(elapsed).toBeGreaterThanOrEqual(290);
    expect(elapsed).toBeLessThan(3_000);
    await waitFor(() => catalog.aborted.length === 1);
  });

  it('streams the response: the first chunk arrives before the upstream finishes', async () => {
    let finish: () => void = () => undefined;
    const catalog = await upstreamWith((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write('first;');
      finish = () => res.end('last');
    });
    const { url } = await startStack({ catalog });

    const chunks: string[] = [];
    const done = new Promise<void>((resolve, reject) => {
      http
        .get(`${url}/api/catalog/export`, (res) => {
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => {
            chunks.push(chunk);
            if (chunks.join('') === 'first;') finish();
          });
          res.on('end', resolve);
        })
        .on('error', reject);
    });
    await done;
    expect(chunks.join('')).toBe('first;last');
    expect(chunks[0]).toBe('first;');
  });

  it('cancels the upstream request when the client goes away', async () => {
    const catalog = await upstreamWith(() => undefined /* holds the request open */);
    const { url } = await startStack({ catalog });

    const client = http.get(`${url}/api/catalog/slow`);
    client.on('error', () => undefined);
    await waitFor(() => catalog.requests.some((r) => r.url === '/slow'));
    client.destroy();

    await waitFor(() => catalog.aborted.includes('/slow'));
  });
});

describe('web server: SPA', () => {
  it('serves index.html for / and client routes, never cached', async () => {
    const { url } = await startStack();
    for (const path of ['/', '/order', '/status?refresh=1', '/index.html']) {
      const response = await fetch(url + path);
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8');
      expect(response.headers.get('cache-control')).toBe(HTML_CACHE);
      expect(await response.text()).toBe(INDEX_HTML);
    }
  });

  it('serves hashed assets as immutable and other files with a short cache', async () => {
    const { url } = await startStack();

    const js = await fetch(`${url}/assets/index-AbC123.js`);
    expect(js.status).toBe(200);
    expect(js.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(js.headers.get('cache-control')).toBe(IMMUTABLE_CACHE);
    expect(js.headers.get('content-length')).toBe(String(Buffer.byteLength(ASSET_JS)));
    expect(await js.text()).toBe(ASSET_JS);

    const css = await fetch(`${url}/assets/index-Zz9.css`);
    expect(css.headers.get('content-type')).toBe('text/css; charset=utf-8');
    expect(await css.text()).toBe('body{margin:0}');

    const icon = await fetch(`${url}/favicon.ico`);
    expect(icon.headers.get('content-type')).toBe('image/x-icon');
    expect(icon.headers.get('cache-control')).toBe(PLAIN_CACHE);
    expect(Buffer.from(await icon.arrayBuffer())).toEqual(Buffer.from([0, 0, 1, 0]));
  });

  it('answers a matching If-None-Match with 304 and HEAD with headers only', async () => {
    const { url } = await startStack();
    const first = await fetch(`${url}/assets/index-AbC123.js`);
    const etag = first.headers.get('etag') as string;
    await first.text();
    expect(etag).toMatch(/^"[A-Za-z0-9_-]{27}"$/);

    const revalidated = await fetch(`${url}/assets/index-AbC123.js`, {
      headers: { 'if-none-match': etag },
    });
    expect(revalidated.status).toBe(304);
    expect(await revalidated.text()).toBe('');

    const changed = await fetch(`${url}/assets/index-AbC123.js`, {
      headers: { 'if-none-match': '"other"' },
    });
    expect(changed.status).toBe(200);
    expect(await changed.text()).toBe(ASSET_JS);

    const head = await rawRequest(`${url}/`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.headers['content-length']).toBe(String(Buffer.byteLength(INDEX_HTML)));
    expect(head.body).toBe('');
  });

  it('answers 404 JSON for missing files, API paths and anything outside the build', async () => {
    const { url } = await startStack();
    for (const path of [
      '/assets/index-old.js',
      '/api/unknown',
      '/api/catalogue/products',
      '/health/whatever',
      '/.DS_Store',
      '/..%2Fpackage.json',
      '/%2e%2e/%2e%2e/etc/passwd.txt',
    ]) {
      const response = await fetch(url + path);
      expect({ path, status: response.status }).toEqual({ path, status: 404 });
      expect(response.headers.get('content-type')).toContain('application/json');
      expect((await response.json()).statusCode).toBe(404);
    }
    // Fastify's router rejects a malformed percent-encoding before any route runs.
    const malformed = await fetch(`${url}/%E0%A4%A`);
    expect(malformed.status).toBe(400);
    await malformed.body?.cancel();
  });

  it('sends a CSP that allows same-origin API calls and does not upgrade plain-http asset requests', async () => {
    const { url } = await startStack();
    const response = await fetch(`${url}/`);
    const csp = response.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("default-src 'self'");
    expect(csp).toContain("connect-src 'self'");
    expect(csp).not.toContain('upgrade-insecure-requests');
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    expect(await response.text()).toBe(INDEX_HTML);
  });

  it('serves static files outside the rate limit that guards the API', async () => {
    const { url } = await startStack({ env: { RATE_LIMIT_MAX: '2' } });
    const statuses: number[] = [];
    for (let i = 0; i < 4; i += 1) {
      const response = await fetch(`${url}/assets/index-AbC123.js`);
      await response.text();
      statuses.push(response.status);
    }
    expect(statuses).toEqual([200, 200, 200, 200]);
    const api: number[] = [];
    for (let i = 0; i < 3; i += 1) {
      const response = await fetch(`${url}/api/catalog/products`);
      await response.text();
      api.push(response.status);
    }
    expect(api).toEqual([200, 200, 429]);
  });
});

describe('web server: start-up', () => {
  it('fails with the fix when STATIC_DIR has no index.html', async () => {
    const empty = await mkdtemp(join(tmpdir(), 'slipway-web-empty-'));
    cleanups.push(() => rm(empty, { recursive: true, force: true }));
    await writeFile(join(empty, 'other.html'), 'x');
    const config = loadWebServerConfig({ STATIC_DIR: empty });
    const error = await createWebServer(config, {
      service: { logger: false },
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StaticDirError);
    expect((error as Error).message).toBe(
      `STATIC_DIR "${empty}" has no index.html: build the SPA with \`npx nx build web\` or set STATIC_DIR to the directory holding index.html`,
    );
  });

  it('fails with the fix when STATIC_DIR does not exist', async () => {
    const config = loadWebServerConfig({
      STATIC_DIR: '/nonexistent/slipway-web',
    });
    await expect(createWebServer(config)).rejects.toThrow(
      'STATIC_DIR "/nonexistent/slipway-web" cannot be read (ENOENT): build the SPA with `npx nx build web`',
    );
  });

  it('uses the default static dir when STATIC_DIR is unset, and refuses to guess without one', async () => {
    const staticDir = await makeStaticDir();
    cleanups.push(staticDir.remove);
    const config = loadWebServerConfig({ PORT: '0', HOST: '127.0.0.1' });
    expect(config.STATIC_DIR).toBeUndefined();
    await expect(createWebServer(config)).rejects.toThrow('STATIC_DIR is not set and no default was given');

    const web = await createWebServer(config, {
      defaultStaticDir: staticDir.dir,
      service: { logger: false },
    });
    cleanups.push(() => web.shutdown());
    const url = await web.listen();
    expect(await (await fetch(`${url}/status`)).text()).toBe(INDEX_HTML);
  });

  it('defaults to port 4300 and the product ports of catalog and orders', () => {
    expect(loadWebServerConfig({})).toMatchObject({
      PORT: 4300,
      CATALOG_URL: 'http://127.0.0.1:3101',
      ORDERS_URL: 'http://127.0.0.1:3102',
      UPSTREAM_TIMEOUT_MS: 10_000,
      TRUST_PROXY: false,
    });
  });

  it('lists every invalid variable at once', () => {
    const error = (() => {
      try {
        loadWebServerConfig({
          CATALOG_URL: 'catalog:3101',
          UPSTREAM_TIMEOUT_MS: 'soon',
          PORT: '99999',
        });
      } catch (e) {
        return e;
      }
      return undefined;
    })() as ConfigError;
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.problems.map((p) => p.variable).sort()).toEqual(['CATALOG_URL', 'PORT', 'UPSTREAM_TIMEOUT_MS']);
  });
});

async function waitFor(condition: () => boolean, timeoutMs = 3_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
