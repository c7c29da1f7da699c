import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { ProductsPage, parseProductQuery } from './products-page';
import { createFakeFetch, json, pending, unexpected, type RecordedRequest } from '../testing/fake-fetch';
import { product, productPage } from '../testing/fixtures';
import { renderWithApi } from '../testing/render';

function catalogOf(count: number) {
  return Array.from({ length: count }, (_, i) => product({ name: `Item ${i + 1}`, sku: `ITEM-${i + 1}` }));
}

/** A tiny in-memory catalog answering GET /api/catalog/products the way the real one pages and filters. */
function catalogHandler(all: ReturnType<typeof catalogOf>) {
  return (req: RecordedRequest) => {
    if (req.path !== '/api/catalog/products') return unexpected(req);
    const q = (req.query.get('q') ?? '').toLowerCase();
    const limit = Number(req.query.get('limit'));
    const offset = Number(req.query.get('offset'));
    const matching = all.filter((p) => p.name.toLowerCase().includes(q) || p.sku.toLowerCase().includes(q));
    return json(200, {
      items: matching.slice(offset, offset + limit),
      total: matching.length,
      limit,
      offset,
    });
  };
}

const location = () => screen.getByTestId('location').textContent;
const rowNames = () =>
  within(screen.getByRole('table', { name: 'Products' }))
    .getAllByRole('rowheader')
    .map((cell) => cell.textContent);

describe('ProductsPage', () => {
  it('shows a loading state, then the first page of products', async () => {
    let release: (value: unknown) => void = () => undefined;
    const gate = new Promise((resolve) => (release = resolve));
    const items = [
      product({
        name: 'Mug',
        sku: 'MUG-1',
        priceCents: 1250,
        currency: 'EUR',
        stock: 3,
      }),
      product({
        name: 'Cap',
        sku: 'CAP-1',
        priceCents: 900,
        currency: 'USD',
        stock: 0,
      }),
    ];
    const { fetch, calls } = createFakeFetch(async () => {
      await gate;
      return json(200, productPage(items));
    });
    renderWithApi(<ProductsPage />, { fetch });

    expect(screen.getByRole('status')).toHaveTextContent('Loading products…');
    release(undefined);

    const table = await screen.findByRole('table', { name: 'Products' });
    const mugRow = within(table).getByRole('row', { name: /Mug/ });
    expect(within(mugRow).getByRole('cell', { name: '€12.50' })).toBeInTheDocument();
    expect(within(mugRow).getByRole('cell', { name: 'MUG-1' })).toBeInTheDocument();
    expect(within(mugRow).getByRole('link', { name: 'Order Mug' })).toHaveAttribute(
      'href',
      `/order?product=${items[0].id}`,
    );
    const capRow = within(table).getByRole('row', { name: /Cap/ });
    expect(within(capRow).getByRole('cell', { name: '$9.00' })).toBeInTheDocument();
    expect(within(capRow).queryByRole('link')).not.toBeInTheDocument();
    expect(within(capRow).getByText('Out of stock')).toBeInTheDocument();
    expect(screen.getByText('Showing 1–2 of 2')).toBeInTheDocument();
    expect(Object.fromEntries(calls[0].query)).toEqual({
      limit: '20',
      offset: '0',
    });
    expect(document.title).toBe('Products · Slipway');
  });

  it('reads q, limit and offset from the URL', async () => {
    const { fetch, calls } = createFakeFetch(catalogHandler(catalogOf(30)));
    renderWithApi(<ProductsPage />, {
      fetch,
      route: '/?q=item&limit=10&offset=10',
    });

    expect(await screen.findByText('Showing 11–20 of 30')).toBeInTheDocument();
    expect(Object.fromEntries(calls[0].query)).toEqual({
      q: 'item',
      limit: '10',
      offset: '10',
    });
    expect(screen.getByRole('searchbox', { name: 'Search products' })).toHaveValue('item');
    expect(screen.getByRole('combobox', { name: 'Per page' })).toHaveValue('10');
  });

  it('searches: puts q in the URL, starts at the first page and shows the matches', async () => {
    const user = userEvent.setup();
    const all = [...catalogOf(25), product({ name: 'Blue mug', sku: 'MUG-BLUE' })];
    const { fetch, calls } = createFakeFetch(catalogHandler(all));
    renderWithApi(<ProductsPage />, { fetch, route: '/?offset=20' });
    await screen.findByText('Showing 21–26 of 26');

    await user.type(screen.getByRole('searchbox', { name: 'Search products' }), '  mug ');
    await user.click(screen.getByRole('button', { name: 'Search' }));

    await waitFor(() => expect(rowNames()).toEqual(['Blue mug']));
    expect(location()).toBe('/?q=mug');
    expect(Object.fromEntries(calls.at(-1)?.query ?? [])).toEqual({
      q: 'mug',
      limit: '20',
      offset: '0',
    });
  });

  it('says when nothing matches the search', async () => {
    const { fetch } = createFakeFetch(catalogHandler(catalogOf(3)));
    renderWithApi(<ProductsPage />, { fetch, route: '/?q=teapot' });
    expect(await screen.findByText('No products match “teapot”.')).toHaveAttribute('role', 'status');
    expect(screen.queryByRole('table')).not.toBeInTheDocument();
  });

  it('says when the catalog is empty', async () => {
    const { fetch } = createFakeFetch(catalogHandler([]));
    renderWithApi(<ProductsPage />, { fetch });
    expect(await screen.findByText('No products yet.')).toHaveAttribute('role', 'status');
  });

  it('pages forward and back with Next and Previous, disabling them at the ends', async () => {
    const user = userEvent.setup();
    const { fetch } = createFakeFetch(catalogHandler(catalogOf(45)));
    renderWithApi(<ProductsPage />, { fetch });

    await screen.findByText('Showing 1–20 of 45');
    const pagination = () => screen.getByRole('navigation', { name: 'Pagination' });
    expect(within(pagination()).getByRole('button', { name: 'Previous' })).toBeDisabled();

    await user.click(within(pagination()).getByRole('button', { name: 'Next' }));
    await screen.findByText('Showing 21–40 of 45');
    expect(location()).toBe('/?offset=20');
    expect(rowNames()[0]).toBe('Item 21');

    await user.click(within(pagination()).getByRole('button', { name: 'Next' }));
    await screen.findByText('Showing 41–45 of 45');
    expect(within(pagination()).getByRole('button', { name: 'Next' })).toBeDisabled();

    await user.click(within(pagination()).getByRole('button', { name: 'Previous' }));
    await screen.findByText('Showing 21–40 of 45');
  });

  it('changes the page size and goes back to the first page', async () => {
    const user = userEvent.setup();
    const { fetch, calls } = createFakeFetch(catalogHandler(catalogOf(45)));
    renderWithApi(<ProductsPage />, { fetch, route: '/?offset=20' });
    await screen.findByText('Showing 21–40 of 45');

    await user.selectOptions(screen.getByRole('combobox', { name: 'Per page' }), '50');

    await screen.findByText('Showing 1–45 of 45');
    expect(location()).toBe('/?limit=50');
    expect(Object.fromEntries(calls.at(-1)?.query ?? [])).toEqual({
      limit: '50',
      offset: '0',
    });
  });

  it('offers the first page when the offset is past the end', async () => {
    const user = userEvent.setup();
    const { fetch } = createFakeFetch(catalogHandler(catalogOf(5)));
    renderWithApi(<ProductsPage />, { fetch, route: '/?offset=40' });

    expect(await screen.findByText(/No products on this page\./)).toHaveAttribute('role', 'status');
    await user.click(screen.getByRole('button', { name: 'Go to the first page' }));
    await screen.findByText('Showing 1–5 of 5');
    expect(location()).toBe('/');
  });

  it('shows the server error and retries on request', async () => {
    const user = userEvent.setup();
    let failing = true;
    const { fetch, calls } = createFakeFetch((req) =>
      failing
        ? json(503, {
            statusCode: 503,
            error: 'Service Unavailable',
            message: 'database is not reachable',
          })
        : catalogHandler(catalogOf(2))(req),
    );
    renderWithApi(<ProductsPage />, { fetch });

    const alert = await screen.findByRole('alert');
    expect(alert).toHaveTextContent('Could not load products: database is not reachable');

    failing = false;
    await user.click(within(alert).getByRole('button', { name: 'Retry' }));
    await screen.findByText('Showing 1–2 of 2');
    expect(screen.queryByRole('alert')).not.toBeInTheDocument();
    expect(calls).toHaveLength(2);
  });

  it('reports an unreachable catalog', async () => {
    const { fetch } = createFakeFetch(() => Promise.reject(new TypeError('Failed to fetch')));
    renderWithApi(<ProductsPage />, { fetch });
    expect(await screen.findByRole('alert')).toHaveTextContent(
      'Could not load products: GET /api/catalog/products?limit=20&offset=0 failed: Failed to fetch',
    );
  });

  it('reports a non-Error failure as text', async () => {
    const { fetch } = createFakeFetch(() => ({ status: 200, body: 'x' }));
    const failing = {
      fetch: ((url, init) => fetch(url, init).then(() => Promise.reject('boom'))) as typeof fetch,
    };
    renderWithApi(<ProductsPage />, failing);
    expect(await screen.findByRole('alert')).toHaveTextContent('failed: boom');
  });

  it('abandons the previous request when the query changes', async () => {
    const user = userEvent.setup();
    const { fetch, calls } = createFakeFetch((req) =>
      req.query.get('q') === 'slow' ? pending(req) : catalogHandler(catalogOf(1))(req),
    );
    renderWithApi(<ProductsPage />, { fetch, route: '/?q=slow' });
    expect(screen.getByRole('status')).toHaveTextContent('Loading products…');

    await user.clear(screen.getByRole('searchbox', { name: 'Search products' }));
    await user.click(screen.getByRole('button', { name: 'Search' }));

    await screen.findByText('Showing 1–1 of 1');
    expect(calls[0].signal?.aborted).toBe(true);
    expect(screen.queryByRole('alert')).not.toBeInTheDocument();
  });
});

describe('parseProductQuery', () => {
  it.each([
    ['', { q: '', limit: 20, offset: 0 }],
    ['q=%20mug%20&limit=5&offset=15', { q: 'mug', limit: 5, offset: 15 }],
    ['limit=0', { q: '', limit: 20, offset: 0 }],
    ['limit=101', { q: '', limit: 20, offset: 0 }],
    ['limit=100', { q: '', limit: 100, offset: 0 }],
    ['limit=2.5&offset=-3', { q: '', limit: 20, offset: 0 }],
    ['offset=abc', { q: '', limit: 20, offset: 0 }],
    [`q=${'x'.repeat(150)}`, { q: 'x'.repeat(100), limit: 20, offset: 0 }],
  ])('reads "%s" as %j', (search, expected) => {
    expect(parseProductQuery(new URLSearchParams(search))).toEqual(expected);
  });
});
