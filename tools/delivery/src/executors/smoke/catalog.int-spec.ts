import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadSmokeConfig } from '../../lib/smoke/config';
import { runSmoke } from '../../lib/smoke/run-smoke';
import {
  refusingPort,
  runInWorkspace as run,
  snapshotBuild,
  startCatalog,
  WORKSPACE_ROOT,
  type RunningService,
} from '../../lib/smoke/testing/servers';
import type { SmokeReport } from '../../lib/smoke/types';

/**
 * End to end against the real catalog service (apps/catalog built output, embedded PGlite, built
 * with @slipway/service-kit): `nx run catalog:smoke:local` as users run it, including the real k6
 * smoke script; a wrong expected version; the CLI's distinct exit code; `nx run catalog:k6-smoke`;
 * and a rolling switch from one catalog process to the next on the same port.
 */
const V1 = {
  version: '1.4.0',
  revision: '1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b',
};
const V2 = {
  version: '1.5.0',
  revision: 'f0e1d2c3b4a5968778695a4b3c2d1e0f9a8b7c6d',
};
/** From the smoke range (3700-3799): the rolling switch needs both processes on one port. */
const SWITCH_PORT = 3751;

describe('smoke against the real catalog service', () => {
  let catalog: RunningService;
  let build: ReturnType<typeof snapshotBuild> | undefined;
  let out: string;

  beforeAll(async () => {
    // The service under test is the catalog's real build output; Nx rebuilds it only if it changed.
    const built = await run('npx', ['nx', 'run', 'catalog:build'], {});
    if (built.code !== 0) throw new Error(`nx run catalog:build failed:\n${built.output}`);
    build = snapshotBuild('catalog');
    catalog = await startCatalog({ ...V1, distDir: build.dir });
    out = mkdtempSync(join(tmpdir(), 'slipway-smoke-catalog-'));
  }, 600_000);

  afterAll(async () => {
    await catalog?.stop();
    build?.cleanup();
    if (out) rmSync(out, { recursive: true, force: true });
  });

  const readReport = (): SmokeReport =>
    JSON.parse(readFileSync(join(out, 'local/catalog.json'), 'utf8')) as SmokeReport;

  it('nx run catalog:smoke:local passes against the running catalog, k6 included, with the report and the step summary', async () => {
    const summary = join(out, 'step-summary.md');
    const result = await run(
      'npx',
      [
        'nx',
        'run',
        'catalog:smoke:local',
        `--expect-version=${V1.version}`,
        `--expect-revision=${V1.revision.slice(0, 7)}`,
        `--report-dir=${out}`,
      ],
      {
        SMOKE_CATALOG_URL: catalog.url,
        K6_DURATION: '5s',
        GITHUB_STEP_SUMMARY: summary,
      },
    );
    expect(result.code).toBe(0);
    const report = readReport();
    expect(report).toMatchObject({
      outcome: 'pass',
      exitCode: 0,
      baseUrl: catalog.url,
      expected: { source: '--expect-version --expect-revision' },
    });
    expect(report.stages.map((s) => `${s.name}:${s.status}`)).toEqual([
      'readiness:pass',
      'version:pass',
      'checks:pass',
      'k6:pass',
      'playwright:skipped',
    ]);
    expect(report.stages[1].observed).toEqual({
      version: V1.version,
      revision: V1.revision,
    });
    const checks = report.stages[2].checks ?? [];
    expect(checks.map((c) => c.name)).toEqual([
      'health reports ok',
      'list products',
      'search products',
      'unknown product is 404',
      'invalid paging is 400',
    ]);
    for (const check of checks) expect(check.counts.failure + check.counts.error).toBe(0);
    const k6 = report.stages[3].k6;
    expect(k6).toMatchObject({
      exitCode: 0,
      checksRate: 1,
      httpReqFailedRate: 0,
    });
    expect(k6?.httpReqDurationP95Ms).toBeLessThan(500);
    expect(k6?.httpReqs).toBeGreaterThan(10);
    expect(report.stages[3].durationMs).toBeGreaterThanOrEqual(5000);
    expect(readFileSync(summary, 'utf8')).toContain('### ✅ Smoke catalog @ local: PASS (exit 0)');
    expect(result.output).toContain('PASS (exit 0)');
    // Timings reported for the record (the run's own figures, not asserted beyond the above).
    process.stdout.write(
      `catalog smoke: nx run ${Math.round(result.durationMs)} ms, smoke ${report.durationMs} ms (k6 ${report.stages[3].durationMs} ms)\n`,
    );
  });

  it('nx run catalog:smoke:local fails against a wrong expected version with a precise report', async () => {
    const summary = join(out, 'step-summary-wrong.md');
    const result = await run(
      'npx',
      ['nx', 'run', 'catalog:smoke:local', '--expect-version=9.9.9', '--expect-timeout-ms=2000', `--report-dir=${out}`],
      {
        SMOKE_CATALOG_URL: catalog.url,
        GITHUB_STEP_SUMMARY: summary,
      },
    );
    expect(result.code).toBe(1);
    const report = readReport();
    expect(report).toMatchObject({ outcome: 'fail', exitCode: 1 });
    expect(report.summary).toMatch(
      /^version: still serving 1\.4\.0, expected 9\.9\.9 after 2\.\d s \(\d+ polls, timeout 2\.0 s\)$/,
    );
    expect(report.stages.slice(2).map((s) => s.status)).toEqual(['skipped', 'skipped', 'skipped']);
    expect(readFileSync(summary, 'utf8')).toContain('### ❌ Smoke catalog @ local: FAIL (exit 1)');
    expect(result.output).toContain('still serving 1.4.0, expected 9.9.9');
  });

  it('the CLI exits 2 when the outcome is inconclusive (nx run can only exit 1)', async () => {
    const port = await refusingPort();
    const cli = join(WORKSPACE_ROOT, 'tools/delivery/src/executors/smoke/cli.ts');
    const args = [
      '-r',
      '@swc-node/register',
      cli,
      'catalog',
      '--configuration=local',
      '--readiness-timeout-ms=800',
      '--skip-k6',
      `--report-dir=${out}`,
    ];
    const result = await run(process.execPath, args, {
      SMOKE_CATALOG_URL: `http://127.0.0.1:${port}`,
    });
    expect(result.code).toBe(2);
    expect(readReport()).toMatchObject({
      outcome: 'inconclusive',
      exitCode: 2,
    });
    const unknown = await run(process.execPath, ['-r', '@swc-node/register', cli, 'catalgo'], {});
    expect(unknown.code).toBe(1);
    expect(unknown.output).toContain('unknown project "catalgo". Projects with one: catalog, orders, web');
  });

  it('nx run catalog:k6-smoke type-checks the scripts and runs k6 against BASE_URL', async () => {
    const result = await run('npx', ['nx', 'run', 'catalog:k6-smoke'], {
      BASE_URL: catalog.url,
      K6_DURATION: '3s',
    });
    expect(result.code).toBe(0);
    expect(result.output).toContain('catalog:typecheck-k6');
    expect(result.output).toMatch(/✓ 'p\(95\)<500'/);
    expect(result.output).toMatch(/checks_succeeded\.+: 100\.00%/);
  });

  it('follows a rolling switch: the old process answers, goes away, and the new version takes over', async () => {
    let current = await startCatalog({
      ...V1,
      port: SWITCH_PORT,
      distDir: build?.dir,
    });
    try {
      const config = loadSmokeConfig({
        workspaceRoot: WORKSPACE_ROOT,
        project: 'catalog',
        projectRoot: 'apps/catalog',
        environment: 'local',
        env: { SMOKE_CATALOG_URL: current.url },
        overrides: { skipK6: true, expectTimeoutMs: 120_000 },
      });
      const smoke = runSmoke(config, {
        expect: V2,
        adapters: { log: () => undefined },
      });
      // Let the gate see the old version, then replace the process (the port is free in between).
      await new Promise((resolve) => setTimeout(resolve, 1500));
      await current.stop();
      current = await startCatalog({
        ...V2,
        port: SWITCH_PORT,
        distDir: build?.dir,
      });
      const report = await smoke;
      expect(report.outcome).toBe('pass');
      const attempts = report.stages.find((s) => s.name === 'version')?.attempts ?? [];
      expect(attempts[0]).toMatchObject({
        outcome: 'failure',
        message: `serving 1.4.0 (revision ${V1.revision.slice(0, 12)})`,
      });
      expect(attempts.some((a) => a.outcome === 'error')).toBe(true); // the gap between the processes
      expect(attempts[attempts.length - 1]).toMatchObject({
        outcome: 'success',
      });
      expect(report.stages.find((s) => s.name === 'version')?.observed).toEqual(V2);
      expect(report.stages.find((s) => s.name === 'checks')?.status).toBe('pass');
    } finally {
      await current.stop();
    }
  });
});
