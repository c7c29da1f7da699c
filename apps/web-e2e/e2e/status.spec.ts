import { expect, test, type ServiceName } from './support/fixtures';

const SERVICES: ServiceName[] = ['web', 'catalog', 'orders'];

test.describe('status', () => {
  test('shows web, catalog and orders up and ready with their versions @smoke', async ({ page, expectedVersions }) => {
    await page.goto('/status');

    await expect(page.getByRole('status')).toHaveText('All 3 services are up.');
    for (const service of SERVICES) {
      const card = page.getByRole('region', { name: service });
      await expect(card.getByTestId('status')).toHaveText('ok');
      await expect(card.getByTestId('readiness')).toHaveText('ready');
      // The exact version when this run started the stack; otherwise any reported one.
      await expect(card.getByTestId('version')).toHaveText(expectedVersions[service] ?? /^[^—\s]+$/);
      await expect(card.getByTestId('revision')).toHaveText(/^[^—\s]+$/);
    }
  });

  test('deep links load from the server and unknown pages say so', async ({ page }) => {
    const response = await page.goto('/status');
    expect(response?.headers()['cache-control']).toBe('no-cache');
    await expect(page.getByRole('heading', { level: 1, name: 'Service status' })).toBeVisible();

    await page.goto('/no-such-page');
    await expect(page.getByRole('heading', { level: 1, name: 'Page not found' })).toBeVisible();
    await page.getByRole('link', { name: 'Go to the products' }).click();
    await expect(page.getByRole('heading', { level: 1, name: 'Products' })).toBeVisible();
  });

  test('the main navigation reaches every page', async ({ page }) => {
    await page.goto('/');
    const nav = page.getByRole('navigation', { name: 'Main' });
    await nav.getByRole('link', { name: 'Order' }).click();
    await expect(page.getByRole('heading', { level: 1, name: 'Place an order' })).toBeVisible();
    await nav.getByRole('link', { name: 'Status' }).click();
    await expect(page.getByRole('heading', { level: 1, name: 'Service status' })).toBeVisible();
    await nav.getByRole('link', { name: 'Products' }).click();
    await expect(page).toHaveURL(/\/$/);
  });
});
