import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import type { Order, OrderCreateBody, Product } from '@slipway/contracts';
import { OrderPage, buildOrderDraft } from './order-page';
import {
  createFakeFetch,
  json,
  pending,
  unexpected,
  type FakeReply,
  type RecordedRequest,
} from '../testing/fake-fetch';
import { order, product, productPage } from '../testing/fixtures';
import { renderWithApi } from '../testing/render';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

const mug = product({
  name: 'Mug',
  priceCents: 1250,
  currency: 'EUR',
  stock: 5,
});
const cap = product({
  name: 'Cap',
  priceCents: 900,
  currency: 'EUR',
  stock: 2,
});
const tee = product({
  name: 'Tee',
  priceCents: 2000,
  currency: 'USD',
  stock: 0,
});

/** Prices an order the way the orders service does, from the catalog above. */
function confirmedOrder(body: OrderCreateBody, catalog: Product[] = [mug, cap]): Order {
  const items = body.items.map(({ productId, quantity }) => {
    const p = catalog.find((c) => c.id === productId) as Product;
    return {
      productId,
      sku: p.sku,
      name: p.name,
      quantity,
      unitPriceCents: p.priceCents,
      lineTotalCents: quantity * p.priceCents,
    };
  });
  return order({
    customerEmail: body.customerEmail,
    items,
    totalCents: items.reduce((sum, i) => sum + i.lineTotalCents, 0),
  });
}

function stack(
  onOrder: (req: RecordedRequest) => FakeReply | Promise<FakeReply>,
  products: Product[] = [mug, cap, tee],
) {
  return createFakeFetch((req) => {
    if (req.method === 'GET' && req.path === '/api/catalog/products')
      return json(200, productPage(products, { limit: 100 }));
    if (req.method === 'POST' && req.path === '/api/orders/orders') return onOrder(req);
    return unexpected(req);
  });
}

const quantity = (name: string) => screen.getByRole('spinbutton', { name: `Quantity of ${name}` });
const email = () => screen.getByRole('textbox', { name: 'Email' });
const placeOrder = () => screen.getByRole('button', { name: 'Place order' });
const orderPosts = (calls: RecordedRequest[]) => calls.filter((c) => c.method === 'POST');

async function fillValidOrder(user: ReturnType<typeof userEvent.setup>) {
  await user.type(await screen.findByRole('spinbutton', { name: 'Quantity of Mug' }), '2');
  await user.type(quantity('Cap'), '1');
  await user.type(email(), 'ada@example.com');
}

describe('OrderPage', () => {
  it('loads up to 100 products, showing a loading state first', async () => {
    const { fetch, calls } = stack(unexpected);
    renderWithApi(<OrderPage />, { fetch, route: '/order' });
    expect(screen.getByRole('status')).toHaveTextContent('Loading products…');
    expect(await screen.findByRole('spinbutton', { name: 'Quantity of Mug' })).toHaveValue(null);
    expect(Object.fromEntries(calls[0].query)).toEqual({
      limit: '100',
      offset: '0',
    });
    expect(quantity('Tee')).toBeDisabled();
    expect(document.title).toBe('Order · Slipway');
  });

  it('says when there is nothing to order', async () => {
    const { fetch } = stack(unexpected, []);
    renderWithApi(<OrderPage />, { fetch, route: '/order' });
    expect(await screen.findByText(/No products available to order yet/)).toHaveAttribute('role', 'status');
    expect(screen.queryByRole('form', { name: 'Order' })).not.toBeInTheDocument();
  });

  it('tells when the catalog has more products than the form lists', async () => {
    const { fetch } = createFakeFetch(() => json(200, productPage([mug], { total: 150, limit: 100 })));
    renderWithApi(<OrderPage />, { fetch, route: '/order' });
    expect(await screen.findByText('Showing the first 1 of 150 products.')).toBeInTheDocument();
  });

  it('shows a load failure and retries', async () => {
    const user = userEvent.setup();
    let fail = true;
    const { fetch } = createFakeFetch(() =>
      fail ? Promise.reject(new TypeError('Failed to fetch')) : json(200, productPage([mug])),
    );
    renderWithApi(<OrderPage />, { fetch, route: '/order' });
    const alert = await screen.findByRole('alert');
    expect(alert).toHaveTextContent(
      'Could not load products: GET /api/catalog/products?limit=100&offset=0 failed: Failed to fetch',
    );
    fail = false;
    await user.click(within(alert).getByRole('button', { name: 'Retry' }));
    expect(await screen.findByRole('spinbutton', { name: 'Quantity of Mug' })).toBeInTheDocument();
  });

  it('reports a non-Error load failure as text', async () => {
    const { fetch } = createFakeFetch(() => json(200, {}));
    renderWithApi(<OrderPage />, {
      fetch: (url, init) => fetch(url, init).then(() => Promise.reject('boom')),
      route: '/order',
    });
    expect(await screen.findByRole('alert')).toHaveTextContent(
      'Could not load products: GET /api/catalog/products?limit=100&offset=0 failed: boom',
    );
  });

  it('preselects one of the product linked from the list', async () => {
    const { fetch } = stack(unexpected);
    renderWithApi(<OrderPage />, { fetch, route: `/order?product=${cap.id}` });
    expect(await screen.findByRole('spinbutton', { name: 'Quantity of Cap' })).toHaveValue(1);
    expect(quantity('Mug')).toHaveValue(null);
    expect(screen.getByText('Estimated total: €9.00')).toBeInTheDocument();
  });

  it('ignores a preselected product it does not list', async () => {
    const { fetch } = stack(unexpected);
    renderWithApi(<OrderPage />, { fetch, route: '/order?product=nope' });
    expect(await screen.findByRole('spinbutton', { name: 'Quantity of Cap' })).toHaveValue(null);
    expect(screen.queryByText(/Estimated total/)).not.toBeInTheDocument();
  });

  it('refuses to send an empty form and says what is missing', async () => {
    const user = userEvent.setup();
    const { fetch, calls } = stack(unexpected);
    renderWithApi(<OrderPage />, { fetch, route: '/order' });
    await screen.findByRole('spinbutton', { name: 'Quantity of Mug' });

    await user.click(placeOrder());

    const alert = screen.getByRole('alert');
    expect(alert).toHaveTextContent('Please fix these 2 problems:');
    expect(alert).toHaveTextContent('Choose a quantity for at least one product.');
    expect(alert).toHaveTextContent('Enter your email address.');
    expect(email()).toHaveAttribute('aria-invalid', 'true');
    expect(email()).toHaveAccessibleDescription('Enter your email address.');
    expect(screen.getByRole('group', { name: 'Products' })).toHaveAccessibleDescription(
      'Choose a quantity for at least one product.',
    );
    expect(orderPosts(calls)).toHaveLength(0);
  });

  it('validates the email format and each quantity before sending', async () => {
    const user = userEvent.setup();
    const { fetch, calls } = stack(unexpected);
    renderWithApi(<OrderPage />, { fetch, route: '/order' });
    await user.type(await screen.findByRole('spinbutton', { name: 'Quantity of Mug' }), '101');
    await user.type(quantity('Cap'), '3');
    await user.type(email(), 'not-an-email');

    await user.click(placeOrder());

    expect(screen.getByRole('alert')).toHaveTextContent('Please fix these 3 problems:');
    expect(quantity('Mug')).toHaveAccessibleDescription('Quantity of Mug must be a whole number from 1 to 100.');
    expect(quantity('Cap')).toHaveAccessibleDescription('Only 2 of Cap in stock.');
    expect(email()).toHaveAccessibleDescription('Enter a valid email address, e.g. ada@example.com.');
    expect(orderPosts(calls)).toHaveLength(0);
  });

  it('places the order with an Idempotency-Key and shows the confirmation', async () => {
    const user = userEvent.setup();
    const { fetch, calls } = stack((req) => json(201, confirmedOrder(req.body as OrderCreateBody)));
    renderWithApi(<OrderPage />, { fetch, route: '/order' });
    await fillValidOrder(user);
    expect(screen.getByText('Estimated total: €34.00')).toBeInTheDocument();

    await user.click(placeOrder());

    const heading = await screen.findByRole('heading', {
      name: 'Order confirmed',
    });
    expect(heading).toHaveFocus();
    const [post] = orderPosts(calls);
    expect(post.body).toEqual({
      customerEmail: 'ada@example.com',
      items: [
        { productId: mug.id, quantity: 2 },
        { productId: cap.id, quantity: 1 },
      ],
    });
    expect(post.headers['idempotency-key']).toMatch(UUID);
    expect(screen.getByTestId('order-id')).toHaveTextContent('3f1c2b7a-1111-4222-8333-444455556666');
    expect(screen.getByTestId('order-total')).toHaveTextContent('€34.00');
    const items = screen.getByRole('table', { name: 'Items' });
    expect(within(items).getByRole('row', { name: 'Mug 2 €12.50 €25.00' })).toBeInTheDocument();
    expect(screen.queryByText(/already been placed/)).not.toBeInTheDocument();
  });

  it('shows "Placing order…" and ignores double submits while the request runs', async () => {
    const user = userEvent.setup();
    let answer: (reply: FakeReply) => void = () => undefined;
    const { fetch, calls } = stack(() => new Promise<FakeReply>((resolve) => (answer = resolve)));
    renderWithApi(<OrderPage />, { fetch, route: '/order' });
    await fillValidOrder(user);

    await user.click(placeOrder());
    const busy = screen.getByRole('button', { name: 'Placing order…' });
    expect(busy).toBeDisabled();
    await user.type(email(), '{Enter}');
    expect(orderPosts(calls)).toHaveLength(1);

    answer(json(201, confirmedOrder(orderPosts(calls)[0].body as OrderCreateBody)));
    expect(await screen.findByRole('heading', { name: 'Order confirmed' })).toBeInTheDocument();
  });

  it('says when the server replayed an earlier confirmation', async () => {
    const user = userEvent.setup();
    const { fetch } = stack((req) =>
      json(201, confirmedOrder(req.body as OrderCreateBody), {
        'idempotent-replayed': 'true',
      }),
    );
    renderWithApi(<OrderPage />, { fetch, route: '/order' });
    await fillValidOrder(user);
    await user.click(placeOrder());
    expect(
      await screen.findByText('This order had already been placed; this is its original confirmation.'),
    ).toBeInTheDocument();
  });

  it('starts a fresh form after a confirmation', async () => {
    const user = userEvent.setup();
    const { fetch, calls } = stack((req) => json(201, confirmedOrder(req.body as OrderCreateBody)));
    renderWithApi(<OrderPage />, { fetch, route: '/order' });
    await fillValidOrder(user);
    await user.click(placeOrder());
    await user.click(await screen.findByRole('button', { name: 'Place another order' }));

    expect(await screen.findByRole('spinbutton', { name: 'Quantity of Mug' })).toHaveValue(null);
    await fillValidOrder(user);
    await user.click(placeOrder());
    await screen.findByRole('heading', { name: 'Order confirmed' });
    const [first, second] = orderPosts(calls);
    expect(second.headers['idempotency-key']).not.toBe(first.headers['idempotency-key']);
  });

  it('shows the server validation errors next to the fields they name', async () => {
    const user = userEvent.setup();
    const { fetch } = stack(() =>
      json(400, {
        statusCode: 400,
        error: 'Bad Request',
        message: 'body/customerEmail must match format "email"',
        details: [
          { field: 'body.customerEmail', message: 'must match format "email"' },
          { field: 'body.items.0.quantity', message: 'must be <= 100' },
        ],
      }),
    );
    renderWithApi(<OrderPage />, { fetch, route: '/order' });
    await fillValidOrder(user);
    await user.click(placeOrder());

    const alerts = await screen.findAllByRole('alert');
    const serverAlert = alerts.find((a) => a.textContent?.includes('The order was not placed')) as HTMLElement;
    expect(serverAlert).toHaveTextContent('The order was not placed: body/customerEmail must match format "email"');
    expect(within(serverAlert).getByText('body.items.0.quantity: must be <= 100')).toBeInTheDocument();
    expect(email()).toHaveAccessibleDescription('must match format "email"');
    expect(placeOrder()).toBeEnabled();
  });

  it('shows a 422 naming the unknown product and uses a new key for the next attempt', async () => {
    const user = userEvent.setup();
    const { fetch, calls } = stack(() =>
      json(422, {
        statusCode: 422,
        error: 'Unprocessable Entity',
        message: `Unknown product ${mug.id}`,
      }),
    );
    renderWithApi(<OrderPage />, { fetch, route: '/order' });
    await fillValidOrder(user);
    await user.click(placeOrder());
    expect(await screen.findByRole('alert')).toHaveTextContent(`The order was not placed: Unknown product ${mug.id}`);

    await user.click(placeOrder());
    await waitFor(() => expect(orderPosts(calls)).toHaveLength(2));
    const [first, second] = orderPosts(calls);
    expect(second.headers['idempotency-key']).not.toBe(first.headers['idempotency-key']);
  });

  it('reuses the key when retrying the same order after no answer, so it cannot be placed twice', async () => {
    const user = userEvent.setup();
    let attempt = 0;
    const { fetch, calls } = stack((req) => {
      attempt += 1;
      if (attempt === 1) return Promise.reject(new TypeError('Failed to fetch'));
      if (attempt === 2)
        return json(504, {
          statusCode: 504,
          error: 'Gateway Timeout',
          message: 'orders did not answer within 10000 ms',
        });
      return json(201, confirmedOrder(req.body as OrderCreateBody), {
        'idempotent-replayed': 'true',
      });
    });
    renderWithApi(<OrderPage />, { fetch, route: '/order' });
    await fillValidOrder(user);

    await user.click(placeOrder());
    expect(await screen.findByRole('alert')).toHaveTextContent('POST /api/orders/orders failed: Failed to fetch');
    await user.click(placeOrder());
    expect(await screen.findByText(/orders did not answer within 10000 ms/)).toBeInTheDocument();
    await user.click(placeOrder());
    await screen.findByRole('heading', { name: 'Order confirmed' });

    const keys = orderPosts(calls).map((c) => c.headers['idempotency-key']);
    expect(keys).toHaveLength(3);
    expect(new Set(keys).size).toBe(1);
  });

  it('uses a new key when the order changed after a lost answer', async () => {
    const user = userEvent.setup();
    let attempt = 0;
    const { fetch, calls } = stack((req) => {
      attempt += 1;
      return attempt === 1
        ? Promise.reject(new TypeError('Failed to fetch'))
        : json(201, confirmedOrder(req.body as OrderCreateBody));
    });
    renderWithApi(<OrderPage />, { fetch, route: '/order' });
    await fillValidOrder(user);
    await user.click(placeOrder());
    await screen.findByRole('alert');

    await user.clear(quantity('Cap'));
    await user.click(placeOrder());
    await screen.findByRole('heading', { name: 'Order confirmed' });
    const [first, second] = orderPosts(calls);
    expect(second.body).toEqual({
      customerEmail: 'ada@example.com',
      items: [{ productId: mug.id, quantity: 2 }],
    });
    expect(second.headers['idempotency-key']).not.toBe(first.headers['idempotency-key']);
  });

  it('reports a failure without a response as text', async () => {
    const user = userEvent.setup();
    const { fetch } = stack(unexpected);
    renderWithApi(<OrderPage />, {
      fetch: (url, init) => (init.method === 'POST' ? Promise.reject('boom') : fetch(url, init)),
      route: '/order',
    });
    await fillValidOrder(user);
    await user.click(placeOrder());
    expect(await screen.findByRole('alert')).toHaveTextContent('failed: boom');
  });

  it('hides the estimate when the chosen products are priced in different currencies', async () => {
    const user = userEvent.setup();
    const dollarTee = product({
      name: 'Dollar tee',
      currency: 'USD',
      stock: 4,
    });
    const { fetch } = stack(unexpected, [mug, dollarTee]);
    renderWithApi(<OrderPage />, { fetch, route: '/order' });
    await user.type(await screen.findByRole('spinbutton', { name: 'Quantity of Mug' }), '1');
    expect(screen.getByText('Estimated total: €12.50')).toBeInTheDocument();
    await user.type(quantity('Dollar tee'), '1');
    expect(screen.queryByText(/Estimated total/)).not.toBeInTheDocument();
  });

  it('aborts the product request when it leaves the page', async () => {
    const { fetch, calls } = createFakeFetch(pending);
    const { unmount } = renderWithApi(<OrderPage />, {
      fetch,
      route: '/order',
    });
    unmount();
    expect(calls[0].signal?.aborted).toBe(true);
  });
});

describe('buildOrderDraft', () => {
  const products = [mug, cap];

  it('builds the body from positive quantities, skipping blanks and zeros', () => {
    expect(
      buildOrderDraft(
        {
          customerEmail: ' ada@example.com ',
          quantities: { [mug.id]: ' 3 ', [cap.id]: '0' },
        },
        products,
      ),
    ).toEqual({
      body: {
        customerEmail: 'ada@example.com',
        items: [{ productId: mug.id, quantity: 3 }],
      },
      errors: {},
    });
  });

  it.each(['1.5', '-1', 'abc', '101'])('rejects quantity %s', (raw) => {
    const draft = buildOrderDraft({ customerEmail: 'ada@example.com', quantities: { [mug.id]: raw } }, products);
    expect(draft.errors).toEqual({
      [mug.id]: 'Quantity of Mug must be a whole number from 1 to 100.',
    });
  });

  it('does not claim nothing was chosen when a chosen quantity is invalid', () => {
    const draft = buildOrderDraft({ customerEmail: '', quantities: { [mug.id]: 'abc' } }, products);
    expect(Object.keys(draft.errors).sort()).toEqual(['customerEmail', mug.id].sort());
  });

  it('applies the contract limit on the number of different products', () => {
    const many = Array.from({ length: 51 }, (_, i) => product({ name: `P${i}`, stock: 10 }));
    const quantities = Object.fromEntries(many.map((p) => [p.id, '1']));
    const draft = buildOrderDraft({ customerEmail: 'ada@example.com', quantities }, many);
    expect(draft.errors).toEqual({
      items: 'An order holds 1 to 50 different products.',
    });
  });
});
