import type { ExecutorContext } from '@nx/devkit';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { tempWorkspace } from '../../lib/smoke/testing/config';
import { refusingPort, scenarioService, sendJson, startServer, type TestServer } from '../../lib/smoke/testing/servers';
import type { SmokeReport } from '../../lib/smoke/types';
import { runSmokeExecutor } from './executor';

/**
 * The smoke executor with its real adapters (node:http, the real clock) against real HTTP servers,
 * one per behaviour a deployed service can show. Timeouts are short so the suite stays quick; the
 * asserted timings have bounds wide enough for a loaded two-core machine.
 */
const NEW = { version: '1.1.0', revision: 'b'.repeat(40) };
const OLD = { version: '1.0.0', revision: 'a'.repeat(40) };

const smokeJson = {
  readiness: {
    timeoutMs: 3000,
    initialDelayMs: 100,
    maxDelayMs: 800,
    factor: 2,
  },
  versionGate: {
    timeoutMs: 3000,
    initialDelayMs: 100,
    maxDelayMs: 800,
    factor: 2,
  },
  requestTimeoutMs: 400,
  defaults: {
    count: 4,
    intervalMs: 150,
    failureLimit: 0,
    consecutiveErrorLimit: 1,
    maxLatencyMs: 300,
  },
  checks: [
    {
      name: 'list products',
      path: '/products?limit=5',
      assertions: [
        { path: '$.items[*].currency', matches: '^(EUR|USD)$' },
        { header: 'content-type', matches: '^application/json' },
      ],
    },
  ],
  environments: { it: { baseUrl: 'http://127.0.0.1:1' } },
};

describe('smoke executor against real servers', () => {
  let ws: ReturnType<typeof tempWorkspace>;
  let server: TestServer | undefined;
  let lines: string[];

  beforeEach(() => {
    ws = tempWorkspace();
    ws.write('apps/catalog/smoke.json', smokeJson);
    lines = [];
  });
  afterEach(async () => {
    await server?.close();
    server = undefined;
    ws.cleanup();
  });

  const context = (): ExecutorContext =>
    ({
      root: ws.root,
      cwd: ws.root,
      isVerbose: false,
      projectName: 'catalog',
      targetName: 'smoke',
      projectsConfigurations: {
        version: 2,
        projects: { catalog: { root: 'apps/catalog' } },
      },
      nxJsonConfiguration: {},
      projectGraph: { nodes: {}, dependencies: {} },
    }) as ExecutorContext;

  async function smoke(baseUrl: string, options: Record<string, unknown> = {}) {
    const summary = join(ws.root, 'step-summary.md');
    const started = performance.now();
    const result = await runSmokeExecutor(
      {
        environment: 'it',
        baseUrl,
        expectVersion: NEW.version,
        expectRevision: NEW.revision.slice(0, 7),
        stepSummary: summary,
        ...options,
      },
      context(),
      { log: (line) => lines.push(line) },
    );
    const wallMs = performance.now() - started;
    const report = JSON.parse(readFileSync(join(ws.root, 'dist/smoke/it/catalog.json'), 'utf8')) as SmokeReport;
    return { result, report, wallMs, summary: readFileSync(summary, 'utf8') };
  }
  const stage = (report: SmokeReport, name: string) => report.stages.find((s) => s.name === name);

  it('passes a healthy service and writes the report and the step summary', async () => {
    server = await startServer(scenarioService({ version: () => NEW }));
    const { result, report, summary } = await smoke(server.url);
    expect(result).toMatchObject({
      success: true,
      exitCode: 0,
      outcome: 'pass',
    });
    expect(report.stages.map((s) => s.status)).toEqual(['pass', 'pass', 'pass', 'skipped', 'skipped']);
    const check = stage(report, 'checks')?.checks?.[0];
    expect(check?.counts).toEqual({ success: 4, failure: 0, error: 0 });
    // 4 measurements 150 ms apart (start to start): first to last ≈ 450 ms.
    const at = check?.measurements.map((m) => m.atMs) ?? [];
    expect(at[3] - at[0]).toBeGreaterThanOrEqual(440);
    expect(at[3] - at[0]).toBeLessThan(1200);
    expect(check?.latency?.maxMs).toBeLessThan(300);
    expect(summary).toContain('### ✅ Smoke catalog @ it: PASS (exit 0)');
    expect(summary).toContain(
      '| checks | GET /products?limit=5 (list products) | ✅ PASS | 4 ok / 0 failed / 0 errors of 4 |',
    );
    expect(lines.join('\n')).toMatch(
      /PASS\s+GET \/products\?limit=5 "list products": 4\/4 ok, min [\d.]+ \/ med [\d.]+ \/ max [\d.]+ ms/,
    );
    // the checks carried request ids, one per measurement
    expect(server.requests.filter((r) => r.path.startsWith('/products')).length).toBe(4);
  });

  it('waits for a service that is slow to become ready', async () => {
    server = await startServer(scenarioService({ version: () => NEW, ready: (ms) => ms > 1200 }));
    const { result, report } = await smoke(server.url);
    expect(result.outcome).toBe('pass');
    const readiness = stage(report, 'readiness');
    expect(readiness?.attempts?.[0]).toMatchObject({
      outcome: 'failure',
      statusCode: 503,
      message: '503 not-ready (failing: db)',
    });
    // backoff 100, 200, 400, 800: attempts at ≈0, 100, 300, 700, 1500 ms → ready at the 5th.
    expect(readiness?.attempts?.length).toBe(5);
    expect(readiness?.durationMs).toBeGreaterThanOrEqual(1200);
    expect(readiness?.durationMs).toBeLessThan(2500);
  });

  it('fails, naming the failing dependency, when readiness never turns 200', async () => {
    server = await startServer(scenarioService({ ready: () => false }));
    const { result, report, wallMs, summary } = await smoke(server.url);
    expect(result).toMatchObject({
      success: false,
      exitCode: 1,
      outcome: 'fail',
    });
    expect(report.summary).toMatch(
      /^readiness: not ready after 3\.\d s \(\d+ attempts, timeout 3\.0 s\): \/health\/readiness last answered 503 not-ready \(failing: db\)$/,
    );
    expect(wallMs).toBeGreaterThanOrEqual(3000);
    expect(wallMs).toBeLessThan(4500);
    expect(server.requests.every((r) => r.path === '/health/readiness')).toBe(true);
    expect(summary).toContain('### ❌ Smoke catalog @ it: FAIL (exit 1)');
  });

  it('waits while the old version still answers, then passes when the new one takes over', async () => {
    server = await startServer(scenarioService({ version: (ms) => (ms < 1000 ? OLD : NEW) }));
    const { result, report } = await smoke(server.url);
    expect(result.outcome).toBe('pass');
    const version = stage(report, 'version');
    expect(version?.attempts?.[0]).toMatchObject({
      outcome: 'failure',
      message: 'serving 1.0.0 (revision aaaaaaaaaaaa)',
    });
    expect(version?.attempts?.slice(-1)[0]?.outcome).toBe('success');
    expect(version?.message).toMatch(/^serving 1\.1\.0 \(revision bbbbbbbbbbbb\) as expected/);
    expect(version?.durationMs).toBeGreaterThanOrEqual(900);
    expect(version?.durationMs).toBeLessThan(2500);
  });

  it('fails with "still serving X, expected Y" when the old version keeps answering', async () => {
    server = await startServer(scenarioService({ version: () => OLD }));
    const { result, report, wallMs } = await smoke(server.url);
    expect(result).toMatchObject({ exitCode: 1, outcome: 'fail' });
    expect(report.summary).toMatch(
      /^version: still serving 1\.0\.0 \(revision aaaaaaaaaaaa\), expected 1\.1\.0 \(revision bbbbbbb\) after 3\.\d s \(\d+ polls, timeout 3\.0 s\)$/,
    );
    expect(wallMs).toBeGreaterThanOrEqual(3000);
    expect(wallMs).toBeLessThan(4500);
    expect(server.requests.some((r) => r.path.startsWith('/products'))).toBe(false);
  });

  it('fails a flapping service at failureLimit 0 and passes it with failureLimit 2', async () => {
    const flapping = () =>
      scenarioService({
        version: () => NEW,
        products: (count, res) =>
          count % 2 === 0
            ? sendJson(res, 500, {
                statusCode: 500,
                error: 'Internal Server Error',
              })
            : sendJson(res, 200, { items: [{ id: '1', currency: 'USD' }] }),
      });
    server = await startServer(flapping());
    const strict = await smoke(server.url);
    expect(strict.result.outcome).toBe('fail');
    expect(stage(strict.report, 'checks')?.checks?.[0]).toMatchObject({
      counts: { success: 1, failure: 1, error: 0 },
      message:
        '1 failed measurement > failureLimit 0; last: status 500, expected 200: {"statusCode":500,"error":"Internal Server Error"}',
    });
    await server.close();
    server = await startServer(flapping());
    ws.write('apps/catalog/smoke.json', {
      ...smokeJson,
      defaults: { ...smokeJson.defaults, failureLimit: 2 },
    });
    const tolerant = await smoke(server.url);
    expect(tolerant.result.outcome).toBe('pass');
    expect(stage(tolerant.report, 'checks')?.checks?.[0]?.counts).toEqual({
      success: 2,
      failure: 2,
      error: 0,
    });
  });

  it('fails a service returning 500s with the status and the body in the report', async () => {
    server = await startServer(
      scenarioService({
        version: () => NEW,
        products: (_c, res) => sendJson(res, 500, { statusCode: 500, message: 'db exploded' }),
      }),
    );
    const { result, report } = await smoke(server.url);
    expect(result).toMatchObject({ exitCode: 1, outcome: 'fail' });
    expect(report.summary).toBe(
      'checks: "list products" failed: 1 failed measurement > failureLimit 0; last: status 500, expected 200: {"statusCode":500,"message":"db exploded"}',
    );
  });

  it('is inconclusive (exit code 2) when the checked route hangs, after exactly the request timeouts', async () => {
    server = await startServer(
      scenarioService({
        version: () => NEW,
        products: () => undefined /* never answers */,
      }),
    );
    const { result, report } = await smoke(server.url);
    expect(result).toMatchObject({
      success: false,
      exitCode: 2,
      outcome: 'inconclusive',
    });
    const check = stage(report, 'checks')?.checks?.[0];
    expect(check?.measurements.map((m) => m.outcome)).toEqual(['error', 'error']);
    for (const m of check?.measurements ?? []) {
      expect(m.message).toBe('TIMEOUT: no complete answer within 400 ms');
      expect(m.durationMs).toBeGreaterThanOrEqual(395);
      expect(m.durationMs).toBeLessThan(800);
    }
    expect(report.summary).toMatch(
      /^checks: "list products" inconclusive: 2 consecutive errors > consecutiveErrorLimit 1; last: TIMEOUT/,
    );
  });

  it('is inconclusive when the service refuses connections, within the readiness timeout', async () => {
    const port = await refusingPort();
    const { result, report, wallMs, summary } = await smoke(`http://127.0.0.1:${port}`, { readinessTimeoutMs: 1000 });
    expect(result).toMatchObject({ exitCode: 2, outcome: 'inconclusive' });
    expect(report.summary).toMatch(
      new RegExp(
        `^readiness: no answer from http://127\\.0\\.0\\.1:${port}/health/readiness after 1\\.\\d s \\(\\d attempts, timeout 1\\.0 s\\): ECONNREFUSED: connection refused`,
      ),
    );
    expect(report.stages.slice(1).every((s) => s.status === 'skipped')).toBe(true);
    expect(wallMs).toBeGreaterThanOrEqual(1000);
    expect(wallMs).toBeLessThan(2500);
    expect(summary).toContain('INCONCLUSIVE (exit 2)');
  });

  it('rejects bad configuration before a single request reaches the server', async () => {
    server = await startServer(scenarioService());
    ws.write('apps/catalog/smoke.json', {
      ...smokeJson,
      readiness: { ...smokeJson.readiness, timeoutMs: -1 },
      checks: [
        {
          path: '/products',
          assertions: [{ path: '$.items[?(@.id)]', exists: true }],
        },
      ],
      k6: { script: 'k6/smoke.ts' },
    });
    ws.write('apps/catalog/k6/smoke.ts', 'export default function () {}');
    const result = await runSmokeExecutor({ environment: 'it', baseUrl: server.url }, context(), {
      log: (line) => lines.push(line),
    });
    expect(result).toEqual({ success: false, exitCode: 1 });
    expect(lines.join('\n')).toContain('readiness.timeoutMs: -1 is negative');
    expect(lines.join('\n')).toContain('filter expressions ("[?(...)]") are not supported');
    expect(server.requests).toHaveLength(0);
  });
});
