import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { runProcess, type ProcessRunner, type RunResult } from '../shared/process';
import type { K6Metrics, K6Runner, PlaywrightRunner, PlaywrightStats, ProcessRunResult } from './types';

const TAIL_LINES = 30;

/** k6's documented exit code when a threshold was crossed: the only k6 exit that means "the service is bad". */
export const K6_THRESHOLDS_FAILED = 99;

/** How a runner's process ended, from its result: exit code (none on timeout) and output tail. */
function finishedRun(result: RunResult, started: number): ProcessRunResult {
  return {
    exitCode: result.timedOut ? null : result.code,
    signal: null,
    timedOut: result.timedOut,
    durationMs: performance.now() - started,
    outputTail: tail(`${result.stdout}\n${result.stderr}`),
  };
}

/** A runner whose process could not be started (not installed, not executable). */
function unstartedRun(what: string, error: unknown, started: number): ProcessRunResult {
  return {
    exitCode: null,
    signal: null,
    timedOut: false,
    durationMs: performance.now() - started,
    outputTail: `cannot start ${what}: ${(error as Error).message}`,
  };
}

/**
 * Runs `k6 run` on the project's script with BASE_URL pointing at the service. The summary is
 * exported to a temp file and read back, so the report carries the real figures k6 measured.
 * Usage reports are switched off: k6 must not call home from a CI runner or this machine.
 */
export function createK6Runner(run: ProcessRunner = runProcess, onOutput?: (line: string) => void): K6Runner {
  return {
    async run(request) {
      const workDir = mkdtempSync(join(tmpdir(), 'slipway-k6-'));
      const summaryFile = join(workDir, 'summary.json');
      const args = [
        'run',
        '--quiet',
        '--no-color',
        '--no-usage-report',
        `--summary-export=${summaryFile}`,
        '-e',
        `BASE_URL=${request.baseUrl}`,
      ];
      for (const [key, value] of Object.entries(request.env)) args.push('-e', `${key}=${value}`);
      args.push(request.script);
      const started = performance.now();
      const lines = onOutput ? lineForwarder(onOutput) : undefined;
      try {
        const result = await run(request.binary, args, {
          cwd: dirname(request.script),
          env: {
            ...process.env,
            K6_NO_USAGE_REPORT: 'true',
            BASE_URL: request.baseUrl,
          },
          timeoutMs: request.timeoutMs,
          secrets: Object.values(request.env),
          onOutput: lines?.push,
        });
        let metrics: K6Metrics | undefined;
        try {
          metrics = parseK6Summary(JSON.parse(readFileSync(summaryFile, 'utf8')));
        } catch {
          metrics = undefined; // k6 stopped before writing a summary (bad script, killed): the exit code says why.
        }
        return { ...finishedRun(result, started), metrics };
      } catch (error) {
        return unstartedRun(request.binary, error, started);
      } finally {
        lines?.flush();
        rmSync(workDir, { recursive: true, force: true });
      }
    },
  };
}

/** Figures from a `k6 run --summary-export` file. Threshold `true` in that file means "crossed". */
export function parseK6Summary(summary: unknown): K6Metrics {
  const metrics = (isObject(summary) && isObject(summary['metrics']) ? summary['metrics'] : {}) as Record<
    string,
    Record<string, unknown>
  >;
  const num = (metric: string, key: string): number | undefined => {
    const value = metrics[metric]?.[key];
    return typeof value === 'number' ? value : undefined;
  };
  const thresholds: K6Metrics['thresholds'] = [];
  for (const [metric, data] of Object.entries(metrics)) {
    if (!isObject(data) || !isObject(data['thresholds'])) continue;
    for (const [expression, crossed] of Object.entries(data['thresholds']))
      thresholds.push({ metric, expression, ok: crossed !== true });
  }
  return {
    checksRate: num('checks', 'value'),
    httpReqFailedRate: num('http_req_failed', 'value'),
    httpReqDurationP95Ms: num('http_req_duration', 'p(95)'),
    httpReqs: num('http_reqs', 'count'),
    thresholds,
  };
}

/**
 * Runs `playwright test --grep <tag>` in the e2e project with BASE_URL set (the e2e config then
 * starts no web server). The JSON reporter goes to a temp file for the counts; the line reporter
 * goes to the console. Playwright's own --global-timeout stops it (and its browsers) cleanly before
 * our hard kill would.
 */
export function createPlaywrightRunner(
  run: ProcessRunner = runProcess,
  onOutput?: (line: string) => void,
): PlaywrightRunner {
  return {
    async run(request) {
      const workDir = mkdtempSync(join(tmpdir(), 'slipway-playwright-'));
      const jsonFile = join(workDir, 'results.json');
      const globalTimeout = Math.max(1_000, request.timeoutMs - 15_000);
      const args = [
        request.cli,
        'test',
        '--grep',
        request.grep,
        '--reporter=line,json',
        `--global-timeout=${globalTimeout}`,
      ];
      const started = performance.now();
      const lines = onOutput ? lineForwarder(onOutput) : undefined;
      try {
        const result = await run(process.execPath, args, {
          cwd: request.dir,
          env: {
            ...withoutJestVariables(process.env),
            BASE_URL: request.baseUrl,
            PLAYWRIGHT_JSON_OUTPUT_FILE: jsonFile,
            FORCE_COLOR: '0',
          },
          timeoutMs: request.timeoutMs,
          onOutput: lines?.push,
        });
        let stats: PlaywrightStats | undefined;
        try {
          stats = parsePlaywrightReport(JSON.parse(readFileSync(jsonFile, 'utf8')));
        } catch {
          stats = undefined;
        }
        return { ...finishedRun(result, started), stats };
      } catch (error) {
        return unstartedRun('Playwright', error, started);
      } finally {
        lines?.flush();
        rmSync(workDir, { recursive: true, force: true });
      }
    },
  };
}

/** Counts and failed test titles from Playwright's JSON reporter output. */
export function parsePlaywrightReport(report: unknown): PlaywrightStats {
  const stats = isObject(report) && isObject(report['stats']) ? report['stats'] : {};
  const count = (key: string): number => (typeof stats[key] === 'number' ? (stats[key] as number) : 0);
  const failedTests: string[] = [];
  const walk = (suite: unknown, titles: string[]): void => {
    if (!isObject(suite)) return;
    // Top-level suites are the files: "order.spec.ts › checkout › places an order" says where to look.
    const here = typeof suite['title'] === 'string' && suite['title'] ? [...titles, suite['title'] as string] : titles;
    for (const spec of Array.isArray(suite['specs']) ? suite['specs'] : []) {
      if (isObject(spec) && spec['ok'] === false) failedTests.push([...here, String(spec['title'])].join(' › '));
    }
    for (const child of Array.isArray(suite['suites']) ? suite['suites'] : []) walk(child, here);
  };
  for (const suite of isObject(report) && Array.isArray(report['suites']) ? report['suites'] : []) walk(suite, []);
  return {
    expected: count('expected'),
    unexpected: count('unexpected'),
    flaky: count('flaky'),
    skipped: count('skipped'),
    failedTests,
  };
}

/**
 * Playwright's `test()` turns into a no-op when JEST_WORKER_ID is set (it assumes it was imported by
 * Jest), so a smoke run started from a Jest suite would find "No tests". The child never needs them.
 */
function withoutJestVariables(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(env).filter(([key]) => !key.startsWith('JEST_')));
}

function tail(text: string): string {
  return text.trim().split('\n').slice(-TAIL_LINES).join('\n');
}

/** Re-assembles whole lines per stream: chunks from a pipe split lines at arbitrary points. */
function lineForwarder(onOutput: (line: string) => void): {
  push: (chunk: string, stream: 'stdout' | 'stderr') => void;
  flush: () => void;
} {
  const pending = { stdout: '', stderr: '' };
  const emit = (text: string): void => {
    if (text.trim()) onOutput(text);
  };
  return {
    push(chunk, stream) {
      const lines = (pending[stream] + chunk).split('\n');
      pending[stream] = lines.pop() ?? '';
      lines.forEach(emit);
    },
    flush() {
      emit(pending.stdout);
      emit(pending.stderr);
      pending.stdout = pending.stderr = '';
    },
  };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
