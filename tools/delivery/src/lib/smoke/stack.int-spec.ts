import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { smokeProject } from './smoke-project';
import { runInWorkspace, snapshotBuild, startService, WORKSPACE_ROOT, type RunningService } from './testing/servers';
import type { SmokeReport } from './types';

/**
 * The shipped smoke.json of catalog, orders and web against the real sample stack (built outputs,
 * embedded PGlite), through `smokeProject`: the call the deploy executor makes after a release.
 * Proves the three configurations match the services as they are, orders' k6 smoke script passes,
 * and web's smoke runs apps/web-e2e's @smoke journeys in Chromium against the same base URL.
 */
const VERSIONS = {
  catalog: {
    version: '2.3.0',
    revision: '3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c',
  },
  orders: {
    version: '2.3.1',
    revision: '4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d',
  },
  web: {
    version: '2.3.2',
    revision: '5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e',
  },
};

describe('smoke of the whole sample stack (library API)', () => {
  const running: RunningService[] = [];
  const snapshots: ReturnType<typeof snapshotBuild>[] = [];
  const urls: Record<string, string> = {};
  let out: string;
  const previousDuration = process.env['K6_DURATION'];

  beforeAll(async () => {
    const built = await runInWorkspace('npx', ['nx', 'run-many', '-t', 'build', '-p', 'catalog', 'orders', 'web'], {});
    if (built.code !== 0) throw new Error(`building the stack failed:\n${built.output}`);
    for (const project of ['catalog', 'orders', 'web'] as const) snapshots.push(snapshotBuild(project));
    const [catalogDist, ordersDist, webDist] = snapshots.map((s) => s.dir);
    const catalog = await startService({
      project: 'catalog',
      ...VERSIONS.catalog,
      distDir: catalogDist,
    });
    running.push(catalog);
    const orders = await startService({
      project: 'orders',
      ...VERSIONS.orders,
      distDir: ordersDist,
      env: { CATALOG_URL: catalog.url },
    });
    running.push(orders);
    const web = await startService({
      project: 'web',
      ...VERSIONS.web,
      distDir: webDist,
      env: { CATALOG_URL: catalog.url, ORDERS_URL: orders.url },
    });
    running.push(web);
    Object.assign(urls, {
      catalog: catalog.url,
      orders: orders.url,
      web: web.url,
    });
    out = mkdtempSync(join(tmpdir(), 'slipway-smoke-stack-'));
    process.env['K6_DURATION'] = '3s';
  }, 600_000);

  afterAll(async () => {
    for (const service of running.reverse()) await service.stop();
    for (const snapshot of snapshots) snapshot.cleanup();
    if (out) rmSync(out, { recursive: true, force: true });
    if (previousDuration === undefined) delete process.env['K6_DURATION'];
    else process.env['K6_DURATION'] = previousDuration;
  });

  async function smoke(project: keyof typeof VERSIONS): Promise<SmokeReport> {
    const lines: string[] = [];
    const { report, reportFile } = await smokeProject({
      workspaceRoot: WORKSPACE_ROOT,
      project,
      projects: {
        catalog: { root: 'apps/catalog' },
        orders: { root: 'apps/orders' },
        web: { root: 'apps/web' },
        'web-e2e': { root: 'apps/web-e2e' },
      },
      environment: 'local',
      expect: VERSIONS[project],
      env: {
        ...process.env,
        [`SMOKE_${project.toUpperCase()}_URL`]: urls[project],
      },
      overrides: {
        skipK6: project === 'catalog' /* catalog's k6 run is in catalog.int-spec.ts */,
      },
      adapters: { log: (line) => lines.push(line) },
      reportDir: out,
      stepSummaryFile: join(out, 'summary.md'),
    });
    expect(JSON.parse(readFileSync(reportFile, 'utf8'))).toEqual(report);
    if (report.outcome !== 'pass') throw new Error(`${project} smoke ${report.outcome}:\n${lines.join('\n')}`);
    return report;
  }

  it('catalog: every shipped check passes and the gate sees the deployed revision', async () => {
    const report = await smoke('catalog');
    expect(report.stages.find((s) => s.name === 'version')?.observed).toEqual(VERSIONS.catalog);
  });

  it('orders: every shipped check passes, and its k6 smoke script holds its thresholds', async () => {
    const report = await smoke('orders');
    const k6 = report.stages.find((s) => s.name === 'k6');
    expect(k6).toMatchObject({
      status: 'pass',
      k6: { exitCode: 0, checksRate: 1, httpReqFailedRate: 0 },
    });
  });

  it('web: checks through its proxies pass and the @smoke journeys of apps/web-e2e pass in Chromium', async () => {
    const report = await smoke('web');
    const playwright = report.stages.find((s) => s.name === 'playwright');
    expect(playwright?.status).toBe('pass');
    expect(playwright?.playwright?.expected).toBeGreaterThanOrEqual(1);
    expect(playwright?.playwright?.unexpected).toBe(0);
    expect(readFileSync(join(out, 'summary.md'), 'utf8')).toContain('### ✅ Smoke web @ local: PASS (exit 0)');
  });
});
