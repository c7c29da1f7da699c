// k6 smoke test for catalog: a few virtual users for ~30 s on the read paths users hit most.
//   BASE_URL=http://127.0.0.1:3101 k6 run apps/catalog/k6/smoke.ts      (or: nx run catalog:k6-smoke)
// K6_DURATION / K6_VUS (k6's own environment options) override duration and VUs, e.g. K6_DURATION=5s in CI.
// The thresholds make k6 exit 99 when the service misbehaves: checks alone never fail a k6 run.
import { check, group, sleep } from 'k6';
import http from 'k6/http';
import type { Options } from 'k6/options';

const BASE_URL = (__ENV.BASE_URL || 'http://127.0.0.1:3101').replace(/\/+$/, '');
const UNKNOWN_ID = '00000000-0000-4000-8000-000000000000';

export const options: Options = {
  vus: 3,
  duration: '30s',
  thresholds: {
    checks: ['rate>0.99'],
    http_req_failed: ['rate<0.01'],
    http_req_duration: ['p(95)<500'],
  },
};

interface ProductPage {
  items: { id: string; sku: string; currency: string }[];
  total: number;
  limit: number;
  offset: number;
}

export function setup(): void {
  const health = http.get(`${BASE_URL}/health/readiness`);
  if (health.status !== 200) throw new Error(`catalog at ${BASE_URL} is not ready: ${health.status} ${health.body}`);
}

export default function (): void {
  group('health', () => {
    const res = http.get(`${BASE_URL}/health`, { tags: { name: 'health' } });
    check(res, {
      'health is 200': (r) => r.status === 200,
      'health reports catalog': (r) => r.json('service') === 'catalog',
    });
  });

  let firstId: string | undefined;
  group('list products', () => {
    const res = http.get(`${BASE_URL}/products?limit=5`, {
      tags: { name: 'products' },
    });
    const ok = check(res, {
      'list is 200': (r) => r.status === 200,
      'list has items': (r) => Array.isArray((r.json() as unknown as ProductPage).items),
      'list honours limit': (r) => (r.json() as unknown as ProductPage).limit === 5,
    });
    if (ok) firstId = (res.json() as unknown as ProductPage).items[0]?.id;
  });

  group('search', () => {
    const res = http.get(`${BASE_URL}/products?q=a&limit=3`, {
      tags: { name: 'products?q' },
    });
    check(res, { 'search is 200': (r) => r.status === 200 });
  });

  if (firstId) {
    group('get product', () => {
      const res = http.get(`${BASE_URL}/products/${firstId}`, {
        tags: { name: 'products/:id' },
      });
      check(res, {
        'product is 200': (r) => r.status === 200,
        'product id matches': (r) => r.json('id') === firstId,
      });
    });
  }

  group('unknown product', () => {
    // A 404 is the right answer here: tell k6 so it does not count as a failed request.
    const res = http.get(`${BASE_URL}/products/${UNKNOWN_ID}`, {
      tags: { name: 'products/:id 404' },
      responseCallback: http.expectedStatuses(404),
    });
    check(res, { 'unknown product is 404': (r) => r.status === 404 });
  });

  sleep(1);
}
