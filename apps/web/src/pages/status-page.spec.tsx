import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { StatusPage, formatUptime } from './status-page';
import {
  createFakeFetch,
  json,
  pending,
  unexpected,
  type FakeReply,
  type RecordedRequest,
} from '../testing/fake-fetch';
import { health } from '../testing/fixtures';
import { renderWithApi } from '../testing/render';

const ready = json(200, { status: 'ready', checks: {} });

/** Routes /health and /health/readiness of the three services to per-path replies. */
function services(replies: Record<string, FakeReply | ((req: RecordedRequest) => FakeReply | Promise<FakeReply>)>) {
  return createFakeFetch((req) => {
    const reply = replies[req.path];
    if (!reply) return unexpected(req);
    return typeof reply === 'function' ? reply(req) : reply;
  });
}

const allUp = {
  '/health': json(200, health('web', { version: '0.4.0', revision: 'aaaaaaa' })),
  '/health/readiness': json(200, {
    status: 'ready',
    checks: { catalog: { status: 'up' }, orders: { status: 'up' } },
  }),
  '/api/catalog/health': json(
    200,
    health('catalog', {
      version: '1.2.3',
      revision: 'bbbbbbb',
      uptimeSeconds: 3725,
    }),
  ),
  '/api/catalog/health/readiness': json(200, {
    status: 'ready',
    checks: { db: { status: 'up', durationMs: 2 } },
  }),
  '/api/orders/health': json(200, health('orders', { version: '2.0.0', revision: 'ccccccc' })),
  '/api/orders/health/readiness': ready,
};

const card = (name: string) => screen.getByRole('region', { name });
const field = (name: string, testId: string) => within(card(name)).getByTestId(testId);

describe('StatusPage', () => {
  it('shows every service checking while the answers are out', () => {
    const { fetch } = createFakeFetch(pending);
    renderWithApi(<StatusPage />, { fetch, route: '/status' });
    expect(screen.getByRole('status')).toHaveTextContent('Checking services…');
    for (const name of ['web', 'catalog', 'orders']) {
      expect(field(name, 'status')).toHaveTextContent('checking…');
      expect(field(name, 'readiness')).toHaveTextContent('checking…');
      expect(field(name, 'version')).toHaveTextContent('—');
    }
    expect(document.title).toBe('Status · Slipway');
  });

  it('shows status, version, revision and readiness of web, catalog and orders', async () => {
    const { fetch, calls } = services(allUp);
    renderWithApi(<StatusPage />, { fetch, route: '/status' });

    expect(await screen.findByText('All 3 services are up.')).toHaveAttribute('role', 'status');
    expect(field('web', 'status')).toHaveTextContent('ok');
    expect(field('web', 'version')).toHaveTextContent('0.4.0');
    expect(field('web', 'revision')).toHaveTextContent('aaaaaaa');
    expect(field('web', 'readiness')).toHaveTextContent('ready');
    expect(field('catalog', 'version')).toHaveTextContent('1.2.3');
    expect(field('catalog', 'revision')).toHaveTextContent('bbbbbbb');
    expect(within(card('catalog')).getByText('1 h 2 min')).toBeInTheDocument();
    expect(within(card('catalog')).getByRole('list', { name: 'catalog checks' })).toHaveTextContent('db: up');
    expect(field('orders', 'version')).toHaveTextContent('2.0.0');
    expect(within(card('orders')).queryByRole('list')).not.toBeInTheDocument();
    expect(calls.map((c) => c.path).sort()).toEqual(Object.keys(allUp).sort());
  });

  it('names a degraded, not-ready service and its failing checks', async () => {
    const { fetch } = services({
      ...allUp,
      '/api/catalog/health': json(503, health('catalog', { status: 'degraded' })),
      '/api/catalog/health/readiness': json(503, {
        status: 'not-ready',
        failing: ['db'],
        checks: {
          db: { status: 'down', error: 'connect ECONNREFUSED 127.0.0.1:5432' },
        },
      }),
    });
    renderWithApi(<StatusPage />, { fetch, route: '/status' });

    expect(await screen.findByText('1 of 3 services not up: catalog.')).toBeInTheDocument();
    expect(field('catalog', 'status')).toHaveTextContent('degraded');
    expect(field('catalog', 'readiness')).toHaveTextContent('not ready (db)');
    expect(within(card('catalog')).getByRole('list', { name: 'catalog checks' })).toHaveTextContent(
      'db: down (connect ECONNREFUSED 127.0.0.1:5432)',
    );
  });

  it('says "not ready" for a shutting-down service with nothing failing', async () => {
    const { fetch } = services({
      ...allUp,
      '/api/orders/health/readiness': json(503, {
        status: 'not-ready',
        failing: [],
        checks: {},
      }),
    });
    renderWithApi(<StatusPage />, { fetch, route: '/status' });
    await screen.findByText('1 of 3 services not up: orders.');
    expect(field('orders', 'readiness')).toHaveTextContent(/^not ready$/);
  });

  it('shows an unreachable service with the reason', async () => {
    const { fetch } = services({
      ...allUp,
      '/api/orders/health': json(502, {
        statusCode: 502,
        error: 'Bad Gateway',
        message: 'orders is unreachable',
      }),
      '/api/orders/health/readiness': () => Promise.reject(new TypeError('Failed to fetch')),
      '/health': {
        status: 200,
        rawBody: '<!doctype html>',
        headers: { 'content-type': 'text/html' },
      },
    });
    renderWithApi(<StatusPage />, { fetch, route: '/status' });

    expect(await screen.findByText('2 of 3 services not up: web, orders.')).toBeInTheDocument();
    expect(field('orders', 'status')).toHaveTextContent('unreachable');
    expect(field('orders', 'readiness')).toHaveTextContent('unknown');
    expect(field('orders', 'version')).toHaveTextContent('—');
    expect(within(card('orders')).getByText('orders is unreachable')).toBeInTheDocument();
    expect(
      within(card('web')).getByText('GET /health answered 200 with text/html instead of JSON'),
    ).toBeInTheDocument();
  });

  it('checks again on Refresh', async () => {
    const user = userEvent.setup();
    let version = '1.2.3';
    const { fetch, calls } = services({
      ...allUp,
      '/api/catalog/health': () => json(200, health('catalog', { version })),
    });
    renderWithApi(<StatusPage />, { fetch, route: '/status' });
    await screen.findByText('All 3 services are up.');
    expect(field('catalog', 'version')).toHaveTextContent('1.2.3');

    version = '1.3.0';
    await user.click(screen.getByRole('button', { name: 'Refresh' }));
    await waitFor(() => expect(field('catalog', 'version')).toHaveTextContent('1.3.0'));
    expect(calls).toHaveLength(12);
  });

  it('aborts its requests when it leaves the page and ignores late answers', async () => {
    let answer: (reply: FakeReply) => void = () => undefined;
    const late = new Promise<FakeReply>((resolve) => (answer = resolve));
    const { fetch, calls } = services({
      ...allUp,
      '/api/orders/health': () => late,
    });
    const { unmount } = renderWithApi(<StatusPage />, {
      fetch,
      route: '/status',
    });
    await waitFor(() => expect(calls).toHaveLength(6));
    unmount();
    const stillOpen = calls.find((c) => c.path === '/api/orders/health');
    expect(stillOpen?.signal?.aborted).toBe(true);
    expect(screen.queryByRole('region')).not.toBeInTheDocument();
    answer(json(200, health('orders')));
    await late;
  });
});

describe('formatUptime', () => {
  it.each([
    [0, '0 s'],
    [59.9, '59 s'],
    [61, '1 min 1 s'],
    [3600, '1 h 0 min'],
    [47 * 3600 + 59 * 60, '47 h 59 min'],
    [50 * 3600, '2 d 2 h'],
  ])('formats %s seconds as %s', (seconds, expected) => {
    expect(formatUptime(seconds)).toBe(expected);
  });
});
