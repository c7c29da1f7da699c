import type { ExecutorContext } from '@nx/devkit';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FakeClock } from '../../lib/smoke/clock';
import { tempWorkspace } from '../../lib/smoke/testing/config';
import { json, refused, ScriptedHttp, type Responder } from '../../lib/smoke/testing/fakes';
import type { SmokeReport } from '../../lib/smoke/types';
import { runSmokeExecutor } from './executor';

const smokeJson = {
  readiness: { timeoutMs: 1000 },
  versionGate: { timeoutMs: 1000 },
  checks: [
    {
      name: 'list',
      path: '/products',
      count: 2,
      intervalMs: 100,
      assertions: [{ path: '$.items', exists: true }],
    },
  ],
  environments: {
    local: { baseUrl: 'http://127.0.0.1:3101' },
    staging: {
      baseUrl: 'https://staging.example.com',
      versionGate: { required: true },
    },
  },
};

const healthy =
  (version = '2.0.0'): Responder =>
  (request) => {
    const path = new URL(request.url).pathname;
    if (path === '/health') return json(200, { version, revision: 'abcdef1234567' });
    if (path === '/products') return json(200, { items: [] });
    return json(200, { status: 'ready' });
  };

describe('smoke executor', () => {
  let ws: ReturnType<typeof tempWorkspace>;
  let context: ExecutorContext;
  let lines: string[];
  let http: ScriptedHttp;
  let clock: FakeClock;

  const run = (options: Parameters<typeof runSmokeExecutor>[0], responder: Responder = healthy()) => {
    clock = new FakeClock();
    http = new ScriptedHttp(clock, responder);
    return runSmokeExecutor(options, context, {
      clock,
      http,
      log: (line) => lines.push(line),
    });
  };
  const reportFile = (env = 'local') => join(ws.root, 'dist/smoke', env, 'catalog.json');

  beforeEach(() => {
    ws = tempWorkspace();
    ws.write('apps/catalog/smoke.json', smokeJson);
    lines = [];
    context = {
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
    } as ExecutorContext;
  });
  afterEach(() => ws.cleanup());

  it('passes, writes the JSON report and appends the step summary', async () => {
    const summary = join(ws.root, 'step-summary.md');
    const result = await run({
      environment: 'local',
      expectVersion: '2.0.0',
      stepSummary: summary,
    });
    expect(result).toEqual({
      success: true,
      exitCode: 0,
      outcome: 'pass',
      reportFile: reportFile(),
    });
    const report = JSON.parse(readFileSync(reportFile(), 'utf8')) as SmokeReport;
    expect(report).toMatchObject({
      outcome: 'pass',
      exitCode: 0,
      expected: { fields: { version: '2.0.0' }, source: '--expect-version' },
    });
    expect(readFileSync(summary, 'utf8')).toContain('### ✅ Smoke catalog @ local: PASS (exit 0)');
    expect(lines.join('\n')).toContain('PASS (exit 0)');
  });

  it('fails against a wrong expected version with a precise message', async () => {
    const result = await run({ environment: 'local', expectVersion: '2.1.0' });
    expect(result).toMatchObject({
      success: false,
      exitCode: 1,
      outcome: 'fail',
    });
    const report = JSON.parse(readFileSync(reportFile(), 'utf8')) as SmokeReport;
    expect(report.summary).toMatch(/^version: still serving 2\.0\.0, expected 2\.1\.0 after 1\.0 s/);
  });

  it('returns exit code 2 when inconclusive', async () => {
    const result = await run({ environment: 'local', expectFrom: 'none' }, () => refused());
    expect(result).toMatchObject({
      success: false,
      exitCode: 2,
      outcome: 'inconclusive',
    });
  });

  it('takes the expectation from dist/images/<project>.json', async () => {
    ws.write('dist/images/catalog.json', {
      project: 'catalog',
      version: '9.9.9',
      revision: 'abcdef1234567',
      contentTag: 'h-1',
    });
    const result = await run({ environment: 'local' });
    expect(result.outcome).toBe('fail');
    expect(JSON.parse(readFileSync(reportFile(), 'utf8')).summary).toMatch(
      /still serving 2\.0\.0 \(revision abcdef123456\), expected 9\.9\.9 \(revision abcdef123456\)/,
    );
  });

  it('--dry-run lists the plan and sends nothing', async () => {
    const result = await run({
      environment: 'staging',
      dryRun: true,
      expectRevision: 'abcdef1',
    });
    expect(result).toEqual({ success: true, exitCode: 0 });
    expect(http.requests).toHaveLength(0);
    expect(lines.join('\n')).toContain('base URL     https://staging.example.com');
    expect(lines.join('\n')).toContain('must report revision abcdef1');
    expect(existsSync(reportFile('staging'))).toBe(false);
  });

  it.each([
    [{ environment: 'qa' }, 'has no "qa" environment (configured: local, staging)'],
    [{ baseUrl: 'not-a-url' }, '--base-url: "not-a-url" is not a valid URL'],
    [{ readinessTimeoutMs: -1 }, '--readiness-timeout-ms: -1 is negative'],
    [{ expectFrom: 'image' as const }, 'dist/images/catalog.json does not exist'],
    [{ config: 'apps/catalog/missing.json' }, 'apps/catalog/missing.json: cannot read it (ENOENT)'],
  ])('rejects bad configuration %j before any request, writing nothing', async (options, message) => {
    const result = await run(options);
    expect(result).toEqual({ success: false, exitCode: 1 });
    expect(lines.join('\n')).toContain(message);
    expect(http.requests).toHaveLength(0);
    expect(existsSync(join(ws.root, 'dist/smoke'))).toBe(false);
  });

  it('rejects a malformed JSON path in smoke.json before any request', async () => {
    ws.write('apps/catalog/smoke.json', {
      ...smokeJson,
      checks: [{ path: '/p', assertions: [{ path: '$.items[', exists: true }] }],
    });
    const result = await run({});
    expect(result.exitCode).toBe(1);
    expect(lines.join('\n')).toContain(
      'checks[0].assertions[0].path: "$.items[" is not a valid JSON path: unclosed "[" at position 7',
    );
    expect(http.requests).toHaveLength(0);
  });

  it('refuses to run without a project in the context', async () => {
    context = { ...context, projectName: undefined };
    expect(await run({})).toEqual({ success: false, exitCode: 1 });
  });
});
