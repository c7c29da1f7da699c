import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { appendStepSummary, renderConsoleSummary, renderMarkdown, renderPlan, reportPath, writeReport } from './report';
import { configFrom, tempWorkspace } from './testing/config';
import type { SmokeReport } from './types';

const report: SmokeReport = {
  schemaVersion: 1,
  project: 'catalog',
  environment: 'staging',
  baseUrl: 'http://svc.test',
  outcome: 'fail',
  exitCode: 1,
  summary: 'checks: "list" failed: 1 failed measurement > failureLimit 0; last: status 500, expected 200',
  expected: {
    fields: { version: '1.1.0', revision: 'bbbbbbbbbbbbbbbbbbbb' },
    source: '--expect-version --expect-revision',
  },
  startedAt: '2026-01-01T00:00:00.000Z',
  finishedAt: '2026-01-01T00:00:02.500Z',
  durationMs: 2500,
  stages: [
    {
      name: 'readiness',
      status: 'pass',
      message: 'ready after 5 ms (1 attempt)',
      durationMs: 5,
      attempts: [{ atMs: 0, durationMs: 5, outcome: 'success', statusCode: 200 }],
    },
    {
      name: 'version',
      status: 'pass',
      message: 'serving 1.1.0 as expected',
      durationMs: 4,
      attempts: [],
    },
    {
      name: 'checks',
      status: 'fail',
      message: '"list" failed: ...',
      durationMs: 2400,
      checks: [
        {
          name: 'list',
          method: 'GET',
          path: '/products?limit=5',
          status: 'fail',
          message: '1 failed measurement > failureLimit 0; last: status 500 | oops',
          durationMs: 1012,
          limits: {
            count: 3,
            intervalMs: 1000,
            failureLimit: 0,
            consecutiveErrorLimit: 2,
          },
          counts: { success: 1, failure: 1, error: 0 },
          latency: { minMs: 10, medianMs: 11, maxMs: 12 },
          measurements: [
            { atMs: 10, durationMs: 10, outcome: 'success', statusCode: 200 },
            {
              atMs: 1010,
              durationMs: 12,
              outcome: 'failure',
              statusCode: 500,
              message: 'status 500 | oops',
            },
          ],
        },
      ],
    },
    {
      name: 'k6',
      status: 'skipped',
      message: 'not run: checks was fail',
      durationMs: 0,
    },
    {
      name: 'playwright',
      status: 'skipped',
      message: 'not configured',
      durationMs: 0,
    },
  ],
};

describe('smoke reports', () => {
  it('renders a Markdown table with one row per stage and per check, escaping pipes', () => {
    const markdown = renderMarkdown(report);
    expect(markdown.split('\n')).toEqual([
      '### ❌ Smoke catalog @ staging: FAIL (exit 1)',
      '',
      'Base URL: `http://svc.test` · expected: `1.1.0 (revision bbbbbbbbbbbb)` (--expect-version --expect-revision) · 2.5 s',
      '',
      '| Stage | Check | Result | Measurements | Latency min / median / max | Time | Details |',
      '| --- | --- | --- | --- | --- | --- | --- |',
      '| readiness |  | ✅ PASS | 1 | – | 5 ms | ready after 5 ms (1 attempt) |',
      '| version |  | ✅ PASS | 0 | – | 4 ms | serving 1.1.0 as expected |',
      '| checks | GET /products?limit=5 (list) | ❌ FAIL | 1 ok / 1 failed / 0 errors of 3 | 10 / 11 / 12 ms | 1.0 s | 1 failed measurement > failureLimit 0; last: status 500 \\| oops |',
      '| k6 |  | ⏭️ skipped | – | – | 0 ms | not run: checks was fail |',
      '| playwright |  | ⏭️ skipped | – | – | 0 ms | not configured |',
      '',
      `**FAIL**: ${report.summary}`,
      '',
    ]);
  });

  it('renders a console summary with per-check timings', () => {
    const text = renderConsoleSummary(report, 'dist/smoke/staging/catalog.json');
    expect(text).toContain('Smoke catalog@staging (http://svc.test) — 2.5 s');
    expect(text).toContain(
      '      FAIL         GET /products?limit=5 "list": 1/2 ok, min 10 / med 11 / max 12 ms, 1.0 s — 1 failed measurement',
    );
    expect(text).toContain('FAIL (exit 1): checks: "list" failed');
    expect(text.split('\n').slice(-1)[0]).toBe('Report: dist/smoke/staging/catalog.json');
  });

  it('writes the JSON report atomically and appends (not overwrites) the step summary', () => {
    const ws = tempWorkspace();
    try {
      const file = reportPath(ws.root, 'staging', 'catalog');
      expect(file).toBe(join(ws.root, 'dist/smoke/staging/catalog.json'));
      writeReport(file, report);
      expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual(report);
      expect(readdirSync(join(ws.root, 'dist/smoke/staging'))).toEqual(['catalog.json']);
      const summary = join(ws.root, 'summary.md');
      appendStepSummary(summary, report);
      appendStepSummary(summary, { ...report, project: 'orders' });
      const content = readFileSync(summary, 'utf8');
      expect(content.match(/^### /gm)).toHaveLength(2);
      expect(content).toContain('Smoke orders @ staging');
      expect(existsSync(`${file}.${process.pid}.tmp`)).toBe(false);
    } finally {
      ws.cleanup();
    }
  });

  it('plans a dry run without secret header values', () => {
    const config = configFrom(
      {
        checks: [
          {
            name: 'auth',
            path: '/p',
            headers: { 'x-api-key': '${env.KEY}', accept: 'application/json' },
            assertions: [{ path: '$.a', equals: 1 }],
          },
        ],
      },
      { env: { KEY: 'super-secret-key' } },
    );
    const plan = renderPlan(config, {
      fields: { version: '2.0.0' },
      source: '--expect-version',
    });
    expect(plan).toContain(
      '2 version    GET http://svc.test/health must report 2.0.0 (from --expect-version; fields version=$.version, revision=$.revision)',
    );
    expect(plan).toContain(
      'GET /p "auth" → 200, $.a == 1; count 1 every 1000 ms, failureLimit 0, consecutiveErrorLimit 4; headers x-api-key: ***, accept: application/json',
    );
    expect(plan).not.toContain('super-secret-key');
    expect(renderPlan(configFrom({ versionGate: { required: true } }), null)).toContain(
      'REQUIRED but no expected version given',
    );
  });
});
