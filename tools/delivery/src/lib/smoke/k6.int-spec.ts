import { join } from 'node:path';
import { resolveK6Binary, resolveSmokeConfig } from './config';
import { runSmoke } from './run-smoke';
import { createK6Runner } from './runners';
import { tempWorkspace } from './testing/config';
import { sendJson, startServer, WORKSPACE_ROOT, type TestServer } from './testing/servers';
import type { SmokeReport } from './types';

/**
 * The real k6 binary running the real apps/catalog/k6/smoke.ts (K6_DURATION shortens it) against
 * purpose-built servers: one that behaves, one that fails, and a script that cannot run. The k6 run
 * against the real catalog service is in catalog.int-spec.ts. No k6 run is faked here: without a
 * k6 binary these tests fail and say how to install it.
 */
const CATALOG_SCRIPT = join(WORKSPACE_ROOT, 'apps/catalog/k6/smoke.ts');
const PRODUCT = {
  id: '2b8f3c1e-0d4a-4b6f-9a1e-5c7d8e9f0a07',
  sku: 'CAP',
  name: 'Cap',
  priceCents: 100,
  currency: 'EUR',
  stock: 1,
};

function catalogLike(options: { failProducts?: boolean } = {}) {
  return startServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname === '/health/readiness') return sendJson(res, 200, { status: 'ready' });
    if (url.pathname === '/health')
      return sendJson(res, 200, {
        service: 'catalog',
        version: '1.0.0',
        revision: 'abc',
        status: 'ok',
      });
    if (url.pathname === '/products') {
      if (options.failProducts)
        return sendJson(res, 500, {
          statusCode: 500,
          error: 'Internal Server Error',
        });
      return sendJson(res, 200, {
        items: [PRODUCT],
        total: 1,
        limit: Number(url.searchParams.get('limit') ?? 20),
        offset: 0,
      });
    }
    if (url.pathname === `/products/${PRODUCT.id}`) return sendJson(res, 200, PRODUCT);
    return sendJson(res, 404, { statusCode: 404, error: 'Not Found' });
  });
}

describe('k6 smoke (real k6 binary)', () => {
  const binary = resolveK6Binary();
  let server: TestServer | undefined;
  let ws: ReturnType<typeof tempWorkspace>;
  const previousDuration = process.env['K6_DURATION'];

  beforeAll(() => {
    if (!binary) throw new Error('k6 is required for this suite: run "bash tools/scripts/install-k6.sh" or set K6_BIN');
    // k6's own environment option: the smoke script's 30 s become 3 s here.
    process.env['K6_DURATION'] = '3s';
  });
  afterAll(() => {
    if (previousDuration === undefined) delete process.env['K6_DURATION'];
    else process.env['K6_DURATION'] = previousDuration;
  });
  beforeEach(() => (ws = tempWorkspace()));
  afterEach(async () => {
    await server?.close();
    server = undefined;
    ws.cleanup();
  });

  async function smokeWithK6(baseUrl: string, script = CATALOG_SCRIPT): Promise<SmokeReport> {
    const config = resolveSmokeConfig(
      {
        readiness: { timeoutMs: 2000 },
        k6: { script, timeoutMs: 60_000 },
        environments: { it: { baseUrl } },
      },
      {
        workspaceRoot: WORKSPACE_ROOT,
        project: 'catalog',
        projectRoot: 'apps/catalog',
        environment: 'it',
        configFile: join(ws.root, 'smoke.json'),
        label: 'smoke.json',
      },
    );
    return runSmoke(config, {
      expect: null,
      adapters: { log: () => undefined },
    });
  }

  it('runs the catalog smoke script and passes a service that behaves, with k6’s real figures', async () => {
    server = await catalogLike();
    const started = Date.now();
    const report = await smokeWithK6(server.url);
    const k6 = report.stages.find((s) => s.name === 'k6');
    expect(report.outcome).toBe('pass');
    expect(k6?.status).toBe('pass');
    expect(k6?.k6).toMatchObject({
      exitCode: 0,
      checksRate: 1,
      httpReqFailedRate: 0,
    });
    expect(k6?.k6?.httpReqs).toBeGreaterThan(10);
    expect(k6?.k6?.thresholds.map((t) => `${t.metric} ${t.expression} ${t.ok}`).sort()).toEqual([
      'checks rate>0.99 true',
      'http_req_duration p(95)<500 true',
      'http_req_failed rate<0.01 true',
    ]);
    // k6 really ran for the 3 s asked for, against this server.
    expect(Date.now() - started).toBeGreaterThanOrEqual(3000);
    expect(server.requests.filter((r) => r.path.startsWith('/products?limit=5')).length).toBeGreaterThan(3);
  });

  it('fails when the thresholds are crossed (k6 exit 99), naming them', async () => {
    server = await catalogLike({ failProducts: true });
    const report = await smokeWithK6(server.url);
    const k6 = report.stages.find((s) => s.name === 'k6');
    expect(report).toMatchObject({ outcome: 'fail', exitCode: 1 });
    expect(k6?.k6?.exitCode).toBe(99);
    expect(k6?.message).toMatch(/^thresholds crossed: .*checks rate>0\.99/);
    expect(k6?.message).toContain('http_req_failed rate<0.01');
    expect(k6?.k6?.checksRate).toBeLessThan(0.99);
  });

  it('is inconclusive when the script itself cannot run', async () => {
    server = await catalogLike();
    // Fails while k6 loads it (init context), before any request: k6 exits 107, not 99.
    const broken = ws.write(
      'broken.ts',
      "import http from 'k6/http';\nthrow new Error('broken on purpose');\nexport default function () { http.get('/'); }\n",
    );
    const report = await smokeWithK6(server.url, broken);
    const k6 = report.stages.find((s) => s.name === 'k6');
    expect(report).toMatchObject({ outcome: 'inconclusive', exitCode: 2 });
    expect(k6?.k6?.exitCode).not.toBe(99);
    expect(k6?.message).toMatch(/^k6 exited with code \d+ before judging the service/);
  });

  it('stops a k6 run that exceeds its time limit', async () => {
    server = await catalogLike();
    const result = await createK6Runner().run({
      binary: binary as string,
      script: CATALOG_SCRIPT,
      baseUrl: server.url,
      env: {},
      timeoutMs: 1500,
    });
    expect(result).toMatchObject({ timedOut: true, exitCode: null });
    expect(result.durationMs).toBeLessThan(5000);
  });
});
