import { render, screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { MemoryRouter } from 'react-router-dom';
import { ApiClientProvider } from '../api/api-context';
import { createApiClient } from '../api/client';
import { createFakeFetch, json, unexpected } from '../testing/fake-fetch';
import { health, productPage } from '../testing/fixtures';
import App from './app';

function renderApp(route: string) {
  const { fetch } = createFakeFetch((req) => {
    if (req.path === '/api/catalog/products') return json(200, productPage([]));
    if (req.path.endsWith('/readiness')) return json(200, { status: 'ready', checks: {} });
    if (req.path.endsWith('/health')) return json(200, health('x'));
    return unexpected(req);
  });
  return render(
    <MemoryRouter initialEntries={[route]}>
      <ApiClientProvider client={createApiClient({ fetch })}>
        <App />
      </ApiClientProvider>
    </MemoryRouter>,
  );
}

describe('App', () => {
  it('navigates between the products, order and status pages from the main navigation', async () => {
    const user = userEvent.setup();
    renderApp('/');
    const nav = screen.getByRole('navigation', { name: 'Main' });
    expect(screen.getByRole('heading', { level: 1, name: 'Products' })).toBeInTheDocument();
    expect(within(nav).getByRole('link', { name: 'Products' })).toHaveAttribute('aria-current', 'page');

    await user.click(within(nav).getByRole('link', { name: 'Order' }));
    expect(screen.getByRole('heading', { level: 1, name: 'Place an order' })).toBeInTheDocument();
    expect(within(nav).getByRole('link', { name: 'Order' })).toHaveAttribute('aria-current', 'page');

    await user.click(within(nav).getByRole('link', { name: 'Status' }));
    expect(screen.getByRole('heading', { level: 1, name: 'Service status' })).toBeInTheDocument();
    expect(await screen.findByText('All 3 services are up.')).toBeInTheDocument();
  });

  it('shows a not-found page with a way back for unknown paths', async () => {
    const user = userEvent.setup();
    renderApp('/nope');
    expect(screen.getByRole('heading', { level: 1, name: 'Page not found' })).toBeInTheDocument();
    expect(document.title).toBe('Not found · Slipway');
    await user.click(screen.getByRole('link', { name: 'Go to the products' }));
    expect(screen.getByRole('heading', { level: 1, name: 'Products' })).toBeInTheDocument();
  });

  it('talks to the same origin through the global fetch when no client is provided', async () => {
    const original = globalThis.fetch;
    const { fetch, calls } = createFakeFetch(() => json(200, productPage([])));
    globalThis.fetch = fetch as typeof globalThis.fetch;
    try {
      render(
        <MemoryRouter initialEntries={['/']}>
          <App />
        </MemoryRouter>,
      );
      expect(await screen.findByText('No products yet.')).toBeInTheDocument();
      expect(calls[0].url).toBe('/api/catalog/products?limit=20&offset=0');
    } finally {
      globalThis.fetch = original;
    }
  });
});
