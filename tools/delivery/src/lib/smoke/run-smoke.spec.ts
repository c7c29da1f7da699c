import { FakeClock } from './clock';
import { SmokeConfigError } from './config';
import { runSmoke } from './run-smoke';
import { configFrom, tempWorkspace } from './testing/config';
import { FakeK6, FakePlaywright, json, refused, ScriptedHttp, timedOut, type Responder } from './testing/fakes';
import type { K6RunResult, PlaywrightRunResult, SmokeReport } from './types';

const NEW = {
  version: '1.1.0',
  revision: 'bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb',
};
const OLD = {
  version: '1.0.0',
  revision: 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa',
};

const baseConfig = {
  readiness: {
    timeoutMs: 5000,
    initialDelayMs: 250,
    maxDelayMs: 2000,
    factor: 2,
  },
  versionGate: {
    timeoutMs: 5000,
    initialDelayMs: 250,
    maxDelayMs: 2000,
    factor: 2,
  },
  checks: [
    {
      name: 'list',
      path: '/products',
      count: 3,
      intervalMs: 1000,
      assertions: [{ path: '$.items', exists: true }],
    },
  ],
};

/** A healthy service: ready, reports NEW, answers the checks. Override per path. */
function service(overrides: Record<string, Responder> = {}): Responder {
  return (request, call, now) => {
    const path = new URL(request.url).pathname;
    if (overrides[path]) return overrides[path](request, call, now);
    if (path === '/health/readiness') return json(200, { status: 'ready', checks: {} });
    if (path === '/health') return json(200, { service: 'catalog', status: 'ok', ...NEW });
    if (path === '/products') return json(200, { items: [], total: 0, limit: 20, offset: 0 }, 12);
    return json(404, { statusCode: 404 });
  };
}

async function smoke(
  responder: Responder,
  options: {
    raw?: Record<string, unknown>;
    expect?: Record<string, string> | null;
    k6?: Partial<K6RunResult>;
    playwright?: Partial<PlaywrightRunResult>;
  } = {},
) {
  const clock = new FakeClock();
  const http = new ScriptedHttp(clock, responder);
  const k6 = new FakeK6(options.k6 ?? {});
  const playwright = new FakePlaywright(options.playwright ?? {});
  const lines: string[] = [];
  const config = configFrom({ ...baseConfig, ...(options.raw ?? {}) }, { workspaceRoot: ws.root });
  const report = await runSmoke(config, {
    expect: options.expect === undefined ? NEW : options.expect,
    adapters: { clock, http, k6, playwright, log: (line) => lines.push(line) },
  });
  return { report, http, clock, k6, playwright, lines };
}

// k6 scripts and Playwright projects must exist for the config to load: a temp workspace holds them.
let ws: ReturnType<typeof tempWorkspace>;
beforeAll(() => {
  ws = tempWorkspace();
  ws.write('apps/catalog/k6/smoke.ts', 'export default function () {}');
  ws.write('apps/web-e2e/playwright.config.mts', 'export default {}');
});
afterAll(() => ws.cleanup());

const stage = (report: SmokeReport, name: string) => report.stages.find((s) => s.name === name);

describe('runSmoke', () => {
  it('passes a healthy service reporting the expected version, in stage order', async () => {
    const { report, http } = await smoke(service());
    expect(report).toMatchObject({
      outcome: 'pass',
      exitCode: 0,
      project: 'catalog',
      environment: 'test',
      baseUrl: 'http://svc.test',
    });
    expect(report.stages.map((s) => [s.name, s.status])).toEqual([
      ['readiness', 'pass'],
      ['version', 'pass'],
      ['checks', 'pass'],
      ['k6', 'skipped'],
      ['playwright', 'skipped'],
    ]);
    expect(http.paths()).toEqual(['/health/readiness', '/health', '/products', '/products', '/products']);
    expect(stage(report, 'version')?.message).toBe('serving 1.1.0 (revision bbbbbbbbbbbb) as expected (1 poll, 5 ms)');
    expect(report.expected).toEqual({ fields: NEW, source: 'caller' });
    const check = stage(report, 'checks')?.checks?.[0];
    expect(check).toMatchObject({
      status: 'pass',
      counts: { success: 3, failure: 0, error: 0 },
      latency: { minMs: 12, medianMs: 12, maxMs: 12 },
    });
    // count 3 at intervalMs 1000, start to start.
    expect(check?.measurements.map((m) => m.atMs)).toEqual([10, 1010, 2010]);
    expect(report.durationMs).toBe(2022);
  });

  it('waits for a service that is slow to become ready, on the backoff schedule', async () => {
    const { report, http } = await smoke(
      service({
        '/health/readiness': (_r, _c, now) =>
          now < 1500 ? json(503, { status: 'not-ready', failing: ['db'] }) : json(200, { status: 'ready' }),
      }),
    );
    expect(report.outcome).toBe('pass');
    const readiness = http.requests.filter((r) => r.url.endsWith('/health/readiness')).map((r) => r.atMs);
    // attempts take 5 ms: 0, +5+250, +5+500, +5+1000
    expect(readiness).toEqual([0, 255, 760, 1765]);
    expect(stage(report, 'readiness')?.message).toBe('ready after 1.8 s (4 attempts)');
  });

  it('fails when the service answers but never becomes ready, naming the failing check, and sends nothing else', async () => {
    const { report, http } = await smoke(
      service({
        '/health/readiness': () =>
          json(503, {
            status: 'not-ready',
            failing: ['db'],
            checks: { db: { status: 'down' } },
          }),
      }),
    );
    expect(report).toMatchObject({ outcome: 'fail', exitCode: 1 });
    expect(stage(report, 'readiness')?.message).toBe(
      'not ready after 5.0 s (6 attempts, timeout 5.0 s): /health/readiness last answered 503 not-ready (failing: db)',
    );
    expect(report.summary).toBe(`readiness: ${stage(report, 'readiness')?.message}`);
    expect(report.stages.slice(1).map((s) => [s.name, s.status, s.message])).toEqual([
      ['version', 'skipped', 'not run: the service is not ready'],
      ['checks', 'skipped', 'not run: readiness was fail'],
      ['k6', 'skipped', 'not configured'],
      ['playwright', 'skipped', 'not configured'],
    ]);
    expect(new Set(http.paths())).toEqual(new Set(['/health/readiness']));
  });

  it('is inconclusive when nothing answers (connection refused)', async () => {
    const { report } = await smoke(() => refused());
    expect(report).toMatchObject({ outcome: 'inconclusive', exitCode: 2 });
    expect(stage(report, 'readiness')?.message).toMatch(
      /^no answer from http:\/\/svc.test\/health\/readiness after 5.0 s \(6 attempts, timeout 5.0 s\): ECONNREFUSED: connection refused/,
    );
  });

  it('gives each readiness attempt only the time left before the deadline', async () => {
    const { http } = await smoke(() => timedOut(100), {
      raw: {
        requestTimeoutMs: 3000,
        readiness: {
          timeoutMs: 1000,
          initialDelayMs: 250,
          maxDelayMs: 2000,
          factor: 2,
        },
      },
    });
    expect(http.requests.map((r) => r.timeoutMs)).toEqual([1000, 650, 100]);
  });

  it('waits for the new version to replace the old one', async () => {
    const { report } = await smoke(
      service({
        '/health': (_r, _c, now) => json(200, now < 2000 ? OLD : NEW),
      }),
    );
    expect(report.outcome).toBe('pass');
    expect(stage(report, 'version')).toMatchObject({
      status: 'pass',
      observed: NEW,
    });
    expect(stage(report, 'version')?.attempts?.map((a) => a.outcome)).toEqual([
      'failure',
      'failure',
      'failure',
      'failure',
      'success',
    ]);
  });

  it('fails with "still serving X, expected Y" when the old version keeps answering', async () => {
    const { report, http } = await smoke(service({ '/health': () => json(200, OLD) }));
    expect(report).toMatchObject({ outcome: 'fail', exitCode: 1 });
    expect(stage(report, 'version')?.message).toBe(
      'still serving 1.0.0 (revision aaaaaaaaaaaa), expected 1.1.0 (revision bbbbbbbbbbbb) after 5.0 s (6 polls, timeout 5.0 s)',
    );
    expect(http.paths()).not.toContain('/products');
  });

  it('fails when the revision differs even if the version is the same', async () => {
    const { report } = await smoke(
      service({
        '/health': () => json(200, { ...NEW, revision: OLD.revision }),
      }),
    );
    expect(stage(report, 'version')?.message).toMatch(
      /^still serving 1.1.0 \(revision aaaaaaaaaaaa\), expected 1.1.0 \(revision bbbbbbbbbbbb\)/,
    );
  });

  it('needs consecutiveMatches answers in a row: alternating old and new replicas fail', async () => {
    const raw = {
      versionGate: { ...baseConfig.versionGate, consecutiveMatches: 3 },
    };
    const flipping = await smoke(service({ '/health': (_r, call) => json(200, call % 2 ? OLD : NEW) }), { raw });
    expect(stage(flipping.report, 'version')?.message).toMatch(
      /^still serving 1.0.0 \(revision aaaaaaaaaaaa\), expected 1.1.0/,
    );
    const steady = await smoke(service(), { raw });
    expect(stage(steady.report, 'version')).toMatchObject({
      status: 'pass',
      message: expect.stringContaining('(3 polls'),
    });
  });

  it('fails when /health never yields a readable version', async () => {
    const { report } = await smoke(service({ '/health': () => json(500, { statusCode: 500 }) }));
    expect(stage(report, 'version')?.message).toMatch(
      /^could not read the version, expected 1.1.0 \(revision bbbbbbbbbbbb\): \/health answered 500/,
    );
  });

  it('skips the gate without an expectation, or fails when the environment requires one', async () => {
    const optional = await smoke(service(), { expect: null });
    expect(stage(optional.report, 'version')).toMatchObject({
      status: 'skipped',
    });
    expect(optional.report.outcome).toBe('pass');
    const required = await smoke(service(), {
      expect: null,
      raw: { versionGate: { required: true } },
    });
    expect(required.report.outcome).toBe('fail');
    expect(stage(required.report, 'version')?.message).toContain('versionGate.required is set for test');
  });

  it('refuses, before any request, an expectation the gate cannot compare', async () => {
    const clock = new FakeClock();
    const http = new ScriptedHttp(clock, service());
    await expect(
      runSmoke(configFrom(baseConfig), {
        expect: { contentTag: 'h-1' },
        adapters: { clock, http, log: () => undefined },
      }),
    ).rejects.toThrow(SmokeConfigError);
    expect(http.requests).toHaveLength(0);
  });

  it('compares the fields it can and notes the ones it cannot', async () => {
    const { report } = await smoke(service(), {
      expect: { ...NEW, contentTag: 'h-0123' },
    });
    expect(stage(report, 'version')?.message).toContain('not compared: contentTag (not in versionGate.fields)');
  });

  it('fails a flapping check at once with failureLimit 0, and tolerates it within failureLimit', async () => {
    const flapping = service({
      '/products': (_r, call) => (call % 2 ? json(500, { statusCode: 500 }) : json(200, { items: [] })),
    });
    const strict = await smoke(flapping, {
      raw: {
        checks: [{ name: 'list', path: '/products', count: 6, intervalMs: 100 }],
      },
    });
    const strictCheck = stage(strict.report, 'checks')?.checks?.[0];
    expect(strictCheck?.status).toBe('fail');
    expect(strictCheck?.measurements).toHaveLength(2);
    expect(strictCheck?.message).toBe(
      '1 failed measurement > failureLimit 0; last: status 500, expected 200: {"statusCode":500}',
    );
    const tolerant = await smoke(flapping, {
      raw: {
        checks: [
          {
            name: 'list',
            path: '/products',
            count: 6,
            intervalMs: 100,
            failureLimit: 3,
          },
        ],
      },
    });
    expect(stage(tolerant.report, 'checks')?.checks?.[0]).toMatchObject({
      status: 'pass',
      counts: { success: 3, failure: 3, error: 0 },
    });
  });

  it('is inconclusive when a check keeps erroring, and runs no further stage', async () => {
    const { report, k6 } = await smoke(service({ '/products': () => timedOut(5000) }), {
      raw: {
        checks: [
          {
            name: 'list',
            path: '/products',
            count: 5,
            consecutiveErrorLimit: 1,
          },
        ],
        k6: { script: 'k6/smoke.ts' },
      },
    });
    expect(report).toMatchObject({ outcome: 'inconclusive', exitCode: 2 });
    expect(stage(report, 'checks')?.message).toBe(
      '"list" inconclusive: 2 consecutive errors > consecutiveErrorLimit 1; last: TIMEOUT: no complete answer within 5000 ms',
    );
    expect(stage(report, 'k6')).toMatchObject({
      status: 'skipped',
      message: 'not run: checks was inconclusive',
    });
    expect(k6.calls).toHaveLength(0);
  });

  it('reports a failure over an inconclusive check', async () => {
    const { report } = await smoke(service({ '/a': () => refused(), '/b': () => json(500, {}) }), {
      raw: {
        checks: [
          { name: 'a', path: '/a', consecutiveErrorLimit: 0 },
          { name: 'b', path: '/b' },
        ],
      },
    });
    expect(report.outcome).toBe('fail');
    expect(stage(report, 'checks')?.message).toMatch(/^"b" failed: .*; "a" inconclusive: /);
  });

  it('runs k6 with the base URL and maps its exit codes', async () => {
    const raw = { k6: { script: 'k6/smoke.ts', env: { VUS: '2' } } };
    const passed = await smoke(service(), {
      raw,
      k6: {
        exitCode: 0,
        metrics: {
          checksRate: 1,
          httpReqFailedRate: 0,
          httpReqDurationP95Ms: 12.34,
          httpReqs: 90,
          thresholds: [],
        },
      },
    });
    expect(passed.k6.calls[0]).toMatchObject({
      binary: '/opt/k6',
      baseUrl: 'http://svc.test',
      env: { VUS: '2' },
    });
    expect(stage(passed.report, 'k6')).toMatchObject({
      status: 'pass',
      message: 'thresholds held (90 requests, checks 100.00%, failed 0.00%, p95 12.3 ms)',
    });

    const crossed = await smoke(service(), {
      raw,
      k6: {
        exitCode: 99,
        metrics: {
          thresholds: [
            { metric: 'http_req_duration', expression: 'p(95)<500', ok: false },
            { metric: 'checks', expression: 'rate>0.99', ok: true },
          ],
        },
      },
    });
    expect(crossed.report).toMatchObject({ outcome: 'fail', exitCode: 1 });
    expect(stage(crossed.report, 'k6')?.message).toBe('thresholds crossed: http_req_duration p(95)<500');

    const broken = await smoke(service(), {
      raw,
      k6: {
        exitCode: 107,
        outputTail: 'ERRO[0000] TypeError: x is not a function',
      },
    });
    expect(broken.report).toMatchObject({
      outcome: 'inconclusive',
      exitCode: 2,
    });
    expect(stage(broken.report, 'k6')?.message).toBe(
      'k6 exited with code 107 before judging the service: ERRO[0000] TypeError: x is not a function',
    );

    const slow = await smoke(service(), {
      raw,
      k6: { exitCode: null, timedOut: true },
    });
    expect(stage(slow.report, 'k6')).toMatchObject({
      status: 'inconclusive',
      message: 'k6 did not finish within 300.0 s',
    });
  });

  it('runs Playwright @smoke tests against the base URL and maps their results', async () => {
    const raw = { playwright: { dir: '../web-e2e' } };
    const ok = await smoke(service(), {
      raw,
      playwright: {
        exitCode: 0,
        stats: {
          expected: 3,
          unexpected: 0,
          flaky: 1,
          skipped: 0,
          failedTests: [],
        },
      },
    });
    expect(ok.playwright.calls[0]).toMatchObject({
      baseUrl: 'http://svc.test',
      grep: '@smoke',
      dir: `${ws.root}/apps/web-e2e`,
    });
    expect(stage(ok.report, 'playwright')).toMatchObject({
      status: 'pass',
      message: '4 @smoke tests passed, 1 flaky',
    });

    const failed = await smoke(service(), {
      raw,
      playwright: {
        exitCode: 1,
        stats: {
          expected: 2,
          unexpected: 1,
          flaky: 0,
          skipped: 0,
          failedTests: ['order › places an order @smoke'],
        },
      },
    });
    expect(failed.report.outcome).toBe('fail');
    expect(stage(failed.report, 'playwright')?.message).toBe('1 @smoke test failed: order › places an order @smoke');

    const none = await smoke(service(), {
      raw,
      playwright: {
        exitCode: 1,
        stats: {
          expected: 0,
          unexpected: 0,
          flaky: 0,
          skipped: 0,
          failedTests: [],
        },
        outputTail: 'Error: No tests found',
      },
    });
    expect(none.report.outcome).toBe('inconclusive');
    expect(stage(none.report, 'playwright')?.message).toBe('no test matched @smoke: Error: No tests found');
  });

  it('skips k6 and Playwright after a failed check', async () => {
    const { report, k6, playwright } = await smoke(service({ '/products': () => json(500, {}) }), {
      raw: {
        k6: { script: 'k6/smoke.ts' },
        playwright: { dir: '../web-e2e' },
      },
    });
    expect(report.stages.slice(3).map((s) => s.message)).toEqual([
      'not run: checks was fail',
      'not run: checks was fail',
    ]);
    expect(k6.calls).toHaveLength(0);
    expect(playwright.calls).toHaveLength(0);
  });

  it('logs progress lines and sends a request id per measurement', async () => {
    const { lines, http } = await smoke(service());
    expect(lines[0]).toBe('smoke catalog@test → http://svc.test');
    expect(lines).toContain('  check "list": pass (3/3 ok, 2.0 s)');
    expect(http.requests.filter((r) => r.url.endsWith('/products')).map((r) => r.headers['x-request-id'])).toEqual([
      'smoke-catalog-1',
      'smoke-catalog-2',
      'smoke-catalog-3',
    ]);
  });
});
