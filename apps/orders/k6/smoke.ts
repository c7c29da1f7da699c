// k6 smoke test for orders: a few virtual users for ~30 s on the read paths and input validation.
//   BASE_URL=http://127.0.0.1:3102 k6 run apps/orders/k6/smoke.ts      (or: nx run orders:k6-smoke)
// K6_DURATION / K6_VUS (k6's own environment options) override duration and VUs, e.g. K6_DURATION=5s in CI.
// No order is created: the smoke test also runs against production.
import { check, group, sleep } from 'k6';
import http from 'k6/http';
import type { Options } from 'k6/options';

const BASE_URL = (__ENV.BASE_URL || 'http://127.0.0.1:3102').replace(/\/+$/, '');
const UNKNOWN_ID = '00000000-0000-4000-8000-000000000000';
const JSON_HEADERS = { 'content-type': 'application/json' };

export const options: Options = {
  vus: 3,
  duration: '30s',
  thresholds: {
    checks: ['rate>0.99'],
    http_req_failed: ['rate<0.01'],
    http_req_duration: ['p(95)<500'],
  },
};

interface OrderPage {
  items: { id: string; totalCents: number }[];
  limit: number;
}

export function setup(): void {
  const health = http.get(`${BASE_URL}/health/readiness`);
  if (health.status !== 200) throw new Error(`orders at ${BASE_URL} is not ready: ${health.status} ${health.body}`);
}

export default function (): void {
  group('health', () => {
    const res = http.get(`${BASE_URL}/health`, { tags: { name: 'health' } });
    check(res, {
      'health is 200': (r) => r.status === 200,
      'health reports orders': (r) => r.json('service') === 'orders',
    });
  });

  let firstId: string | undefined;
  group('list orders', () => {
    const res = http.get(`${BASE_URL}/orders?limit=5`, {
      tags: { name: 'orders' },
    });
    const ok = check(res, {
      'list is 200': (r) => r.status === 200,
      'list has items': (r) => Array.isArray((r.json() as unknown as OrderPage).items),
    });
    if (ok) firstId = (res.json() as unknown as OrderPage).items[0]?.id;
  });

  if (firstId) {
    group('get order', () => {
      const res = http.get(`${BASE_URL}/orders/${firstId}`, {
        tags: { name: 'orders/:id' },
      });
      check(res, {
        'order is 200': (r) => r.status === 200,
        'order id matches': (r) => r.json('id') === firstId,
      });
    });
  }

  group('unknown order', () => {
    const res = http.get(`${BASE_URL}/orders/${UNKNOWN_ID}`, {
      tags: { name: 'orders/:id 404' },
      responseCallback: http.expectedStatuses(404),
    });
    check(res, { 'unknown order is 404': (r) => r.status === 404 });
  });

  group('invalid order', () => {
    const body = JSON.stringify({ customerEmail: 'not-an-email', items: [] });
    const res = http.post(`${BASE_URL}/orders`, body, {
      headers: JSON_HEADERS,
      tags: { name: 'POST orders 400' },
      responseCallback: http.expectedStatuses(400),
    });
    check(res, { 'invalid order is 400': (r) => r.status === 400 });
  });

  sleep(1);
}
