import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { resolveSmokeConfig } from './config';
import { runSmoke } from './run-smoke';
import { sendJson, startServer, WORKSPACE_ROOT, type TestServer } from './testing/servers';
import type { SmokeReport } from './types';

/**
 * The Playwright stage with real Playwright and a real Chromium against a real web server: a small
 * Playwright project written to a temp folder inside the workspace (so @playwright/test resolves),
 * holding two @smoke tests and one untagged test that would fail if --grep did not filter it out.
 * The same stage runs apps/web-e2e's @smoke journeys when web's smoke.json points at it.
 */
const CHROMIUM = process.env['PLAYWRIGHT_CHROMIUM_PATH'] ?? '/usr/bin/chromium';

const CONFIG = `
module.exports = {
  testDir: '.',
  timeout: 30000,
  workers: 1,
  retries: 0,
  use: {
    baseURL: process.env.BASE_URL,
    launchOptions: {
      executablePath: ${JSON.stringify(CHROMIUM)},
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    },
  },
  projects: [{ name: 'chromium', use: { browserName: 'chromium' } }],
};
`;

const SPEC = `
const { test, expect } = require('@playwright/test');
test('home shows the product list @smoke', async ({ page }) => {
  await page.goto('/');
  await expect(page.getByRole('heading', { name: 'Products' })).toBeVisible();
});
test('status page names the services @smoke', async ({ page }) => {
  await page.goto('/status');
  await expect(page.getByText('catalog')).toBeVisible();
});
test('an untagged journey that must not run', async () => {
  throw new Error('ran without the @smoke tag');
});
`;

function webServer(options: { brokenHome?: boolean } = {}) {
  return startServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/health/readiness') {
      sendJson(res, 200, { status: 'ready' });
      return;
    }
    const body =
      path === '/status'
        ? '<h1>Status</h1><p>catalog: ok</p>'
        : options.brokenHome
          ? '<h1>Something went wrong</h1>'
          : '<h1>Products</h1><ul><li>Cap</li></ul>';
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end(`<!doctype html><html><head><title>Slipway</title></head><body>${body}</body></html>`);
  });
}

describe('Playwright @smoke stage (real Chromium)', () => {
  let dir: string;
  let server: TestServer | undefined;

  beforeAll(() => {
    const parent = join(WORKSPACE_ROOT, 'tools/delivery/test-output');
    mkdirSync(parent, { recursive: true });
    dir = mkdtempSync(join(parent, 'smoke-playwright-'));
    writeFileSync(join(dir, 'playwright.config.cjs'), CONFIG);
    writeFileSync(join(dir, 'journeys.spec.cjs'), SPEC);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  async function smoke(baseUrl: string, grep = '@smoke'): Promise<SmokeReport> {
    const config = resolveSmokeConfig(
      {
        readiness: { timeoutMs: 2000 },
        playwright: { dir, grep, timeoutMs: 120_000 },
        environments: { it: { baseUrl } },
      },
      {
        workspaceRoot: WORKSPACE_ROOT,
        project: 'web',
        projectRoot: 'apps/web',
        environment: 'it',
        configFile: join(dir, 'smoke.json'),
        label: 'smoke.json',
      },
    );
    return runSmoke(config, {
      expect: null,
      adapters: { log: () => undefined },
    });
  }

  it('passes when the @smoke journeys pass, and runs only those', async () => {
    server = await webServer();
    const report = await smoke(server.url);
    const stage = report.stages.find((s) => s.name === 'playwright');
    expect(stage).toMatchObject({
      status: 'pass',
      message: '2 @smoke tests passed',
      playwright: { expected: 2, unexpected: 0, exitCode: 0 },
    });
    expect(report.outcome).toBe('pass');
    // the browser really loaded both pages from this server
    expect(server.requests.map((r) => r.path)).toEqual(expect.arrayContaining(['/', '/status']));
  });

  it('fails when a @smoke journey fails, naming it', async () => {
    server = await webServer({ brokenHome: true });
    const report = await smoke(server.url);
    const stage = report.stages.find((s) => s.name === 'playwright');
    expect(report).toMatchObject({ outcome: 'fail', exitCode: 1 });
    expect(stage?.message).toBe('1 @smoke test failed: journeys.spec.cjs › home shows the product list @smoke');
    expect(stage?.outputTail).toContain('Products');
  });

  it('is inconclusive when no test matches the tag', async () => {
    server = await webServer();
    const report = await smoke(server.url, '@no-such-tag');
    expect(report).toMatchObject({ outcome: 'inconclusive', exitCode: 2 });
    expect(report.stages.find((s) => s.name === 'playwright')?.message).toMatch(/^no test matched @no-such-tag/);
  });
});
