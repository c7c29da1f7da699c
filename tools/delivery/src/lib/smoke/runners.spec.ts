import { writeFileSync } from 'node:fs';
import { createK6Runner, createPlaywrightRunner, parseK6Summary, parsePlaywrightReport } from './runners';
import type { ProcessRunner } from '../shared/process';

describe('parseK6Summary', () => {
  it('reads the rates, p95 and thresholds (true in the export means crossed)', () => {
    const summary = {
      metrics: {
        checks: {
          passes: 90,
          fails: 0,
          value: 1,
          thresholds: { 'rate>0.99': false },
        },
        http_req_failed: {
          passes: 0,
          fails: 90,
          value: 0,
          thresholds: { 'rate<0.01': false },
        },
        http_req_duration: {
          'p(95)': 731.2,
          avg: 300,
          thresholds: { 'p(95)<500': true },
        },
        http_reqs: { count: 90, rate: 3 },
        vus: { value: 1 },
      },
    };
    expect(parseK6Summary(summary)).toEqual({
      checksRate: 1,
      httpReqFailedRate: 0,
      httpReqDurationP95Ms: 731.2,
      httpReqs: 90,
      thresholds: [
        { metric: 'checks', expression: 'rate>0.99', ok: true },
        { metric: 'http_req_failed', expression: 'rate<0.01', ok: true },
        { metric: 'http_req_duration', expression: 'p(95)<500', ok: false },
      ],
    });
    expect(parseK6Summary({})).toEqual({
      checksRate: undefined,
      httpReqFailedRate: undefined,
      httpReqDurationP95Ms: undefined,
      httpReqs: undefined,
      thresholds: [],
    });
  });
});

describe('parsePlaywrightReport', () => {
  it('counts results and lists failed tests with their describe titles', () => {
    const report = {
      stats: { expected: 2, unexpected: 1, flaky: 0, skipped: 1 },
      suites: [
        {
          title: 'order.spec.ts',
          specs: [{ title: 'lists products @smoke', ok: true }],
          suites: [
            {
              title: 'checkout',
              specs: [{ title: 'places an order @smoke', ok: false }],
              suites: [],
            },
          ],
        },
      ],
    };
    expect(parsePlaywrightReport(report)).toEqual({
      expected: 2,
      unexpected: 1,
      flaky: 0,
      skipped: 1,
      failedTests: ['order.spec.ts › checkout › places an order @smoke'],
    });
  });
});

describe('runner command lines', () => {
  it('runs k6 with the summary export, BASE_URL, extra env, no usage report, and the time limit', async () => {
    const calls: {
      program: string;
      args: readonly string[];
      timeoutMs?: number;
      env?: NodeJS.ProcessEnv;
      cwd?: string;
    }[] = [];
    const fakeRun: ProcessRunner = async (program, args, options) => {
      calls.push({
        program,
        args,
        timeoutMs: options.timeoutMs,
        env: options.env,
        cwd: options.cwd,
      });
      const exportArg = args.find((a) => a.startsWith('--summary-export='));
      writeFileSync(
        String(exportArg).slice('--summary-export='.length),
        JSON.stringify({ metrics: { http_reqs: { count: 7 } } }),
      );
      options.onOutput?.('line one\nline t', 'stdout');
      options.onOutput?.('wo\n', 'stdout');
      return {
        code: 0,
        stdout: 'line one\nline two\n',
        stderr: '',
        timedOut: false,
      };
    };
    const lines: string[] = [];
    const result = await createK6Runner(fakeRun, (l) => lines.push(l)).run({
      binary: '/opt/k6',
      script: '/ws/apps/catalog/k6/smoke.ts',
      baseUrl: 'http://svc',
      env: { TOKEN: 'tok-secret' },
      timeoutMs: 1234,
    });
    expect(calls[0].program).toBe('/opt/k6');
    expect(calls[0].args).toEqual([
      'run',
      '--quiet',
      '--no-color',
      '--no-usage-report',
      expect.stringMatching(/^--summary-export=.*summary\.json$/),
      '-e',
      'BASE_URL=http://svc',
      '-e',
      'TOKEN=tok-secret',
      '/ws/apps/catalog/k6/smoke.ts',
    ]);
    expect(calls[0]).toMatchObject({
      timeoutMs: 1234,
      cwd: '/ws/apps/catalog/k6',
    });
    expect(calls[0].env).toMatchObject({
      K6_NO_USAGE_REPORT: 'true',
      BASE_URL: 'http://svc',
    });
    expect(result).toMatchObject({
      exitCode: 0,
      timedOut: false,
      metrics: { httpReqs: 7 },
    });
    expect(lines).toEqual(['line one', 'line two']);
  });

  it('reports a k6 binary that cannot start without throwing', async () => {
    const failing: ProcessRunner = async () => {
      throw Object.assign(new Error('spawn /nope ENOENT'), { code: 'ENOENT' });
    };
    const result = await createK6Runner(failing).run({
      binary: '/nope',
      script: '/x.ts',
      baseUrl: 'http://svc',
      env: {},
      timeoutMs: 1000,
    });
    expect(result).toMatchObject({
      exitCode: null,
      outputTail: 'cannot start /nope: spawn /nope ENOENT',
    });
  });

  it('runs Playwright with --grep, BASE_URL, the JSON reporter to a file and a global timeout under the hard limit', async () => {
    let seen: { args: readonly string[]; env?: NodeJS.ProcessEnv; cwd?: string } | undefined;
    const fakeRun: ProcessRunner = async (_program, args, options) => {
      seen = { args, env: options.env, cwd: options.cwd };
      writeFileSync(
        String(options.env?.['PLAYWRIGHT_JSON_OUTPUT_FILE']),
        JSON.stringify({
          stats: { expected: 1, unexpected: 0, flaky: 0, skipped: 0 },
          suites: [],
        }),
      );
      return { code: 0, stdout: '', stderr: '', timedOut: false };
    };
    const result = await createPlaywrightRunner(fakeRun).run({
      cli: '/pw/cli.js',
      dir: '/ws/apps/web-e2e',
      grep: '@smoke',
      baseUrl: 'http://web',
      timeoutMs: 60_000,
    });
    expect(seen?.args).toEqual([
      '/pw/cli.js',
      'test',
      '--grep',
      '@smoke',
      '--reporter=line,json',
      '--global-timeout=45000',
    ]);
    expect(seen?.cwd).toBe('/ws/apps/web-e2e');
    expect(seen?.env).toMatchObject({ BASE_URL: 'http://web' });
    // Jest runs this spec: its worker id must not reach Playwright (it would make test() a no-op).
    expect(process.env['JEST_WORKER_ID']).toBeDefined();
    expect(seen?.env?.['JEST_WORKER_ID']).toBeUndefined();
    expect(result.stats).toEqual({
      expected: 1,
      unexpected: 0,
      flaky: 0,
      skipped: 0,
      failedTests: [],
    });
  });
});
