import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { buildStatusReport, renderStatusHtml } from './status-report';
import { fixtureSnapshots } from './status-report.fixture';

/**
 * The deploy:status page as a person sees it: rendered by Chromium (Debian's, or Playwright's own
 * where PLAYWRIGHT_CHROMIUM_PATH is empty), read back from the DOM, and kept as a screenshot in
 * tools/delivery/test-output/deploy-status/.
 */
const OUTPUT = path.resolve(__dirname, '../../../test-output/deploy-status');
const executable = process.env['PLAYWRIGHT_CHROMIUM_PATH'] ?? '/usr/bin/chromium';

describe('deploy:status HTML page in Chromium', () => {
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'slipway-status-page-'));
  let browser: Browser;

  beforeAll(async () => {
    browser = await chromium.launch({
      ...(executable ? { executablePath: executable } : {}),
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
  });
  afterAll(async () => {
    await browser?.close();
    rmSync(tmp, { recursive: true, force: true });
  });

  it('shows every project and environment, the promotion state, and is screenshotted', async () => {
    const report = buildStatusReport({
      snapshots: fixtureSnapshots(),
      promotions: [{ source: 'staging', target: 'production', soakMs: 3_600_000 }],
      projects: ['catalog', 'orders', 'web'],
      now: new Date('2026-12-06T12:00:00.000Z'),
    });
    const file = path.join(tmp, 'index.html');
    writeFileSync(file, renderStatusHtml(report));
    const page = await browser.newPage({ viewport: { width: 1280, height: 720 } });
    const requests: string[] = [];
    page.on('request', (r) => requests.push(r.url()));
    await page.goto(`file://${file}`);

    expect(await page.locator('thead th').allInnerTexts()).toEqual([
      'project',
      'staging\ngitops',
      'production\ngitops',
      'staging → production',
    ]);
    const row = (project: string) => page.locator(`tr[data-project="${project}"]`);
    const cell = (project: string, env: string) => row(project).locator(`td[data-env="${env}"]`);
    expect(await cell('catalog', 'staging').locator('.version').innerText()).toBe('1.4.2');
    expect(await cell('catalog', 'staging').locator('.since').innerText()).toBe('since 2026-12-06T08:00:00.000Z');
    expect(await cell('catalog', 'staging').locator('.smoke').innerText()).toBe('smoke pass');
    expect(await cell('catalog', 'production').locator('.hold').innerText()).toBe('held: INC-9 pinned');
    expect(await cell('orders', 'staging').locator('.smoke').innerText()).toBe('smoke fail');
    const promotion = (project: string) => row(project).locator('td.promotion');
    expect(await promotion('catalog').locator('strong').innerText()).toBe('blocked');
    expect(await promotion('orders').innerText()).toMatch(/^blocked\s+smoke-failed: its last staging release/);
    expect(await promotion('web').locator('strong').innerText()).toBe('current');
    // A ready promotion is green, a blocked one yellow: the page is read at a glance.
    expect(
      await promotion('web').evaluate((el) => el.ownerDocument.defaultView?.getComputedStyle(el).backgroundColor),
    ).toBe('rgb(246, 248, 250)');
    expect(
      await promotion('orders').evaluate((el) => el.ownerDocument.defaultView?.getComputedStyle(el).backgroundColor),
    ).toBe('rgb(255, 248, 197)');
    expect(requests).toEqual([`file://${file}`]);

    mkdirSync(OUTPUT, { recursive: true });
    const shot = path.join(OUTPUT, 'deploy-status.png');
    await page.screenshot({ path: shot, fullPage: true });
    expect(statSync(shot).size).toBeGreaterThan(10_000);
  });
});
