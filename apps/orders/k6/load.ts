// k6 load test for orders: ramps virtual users up, holds, and ramps down on listing and reading orders.
//   BASE_URL=https://orders.staging.example.com k6 run apps/orders/k6/load.ts   (or: nx run orders:load)
// Not part of the default test run. LOAD_TARGET_VUS scales the plateau (default 20).
// Set LOAD_CREATE_ORDERS=true with CATALOG_URL to also create orders (only against a disposable environment).
import { check, sleep } from 'k6';
import http from 'k6/http';
import type { Options } from 'k6/options';

const BASE_URL = (__ENV.BASE_URL || 'http://127.0.0.1:3102').replace(/\/+$/, '');
const CATALOG_URL = (__ENV.CATALOG_URL || 'http://127.0.0.1:3101').replace(/\/+$/, '');
const TARGET = Number(__ENV.LOAD_TARGET_VUS || 20);
const CREATE = __ENV.LOAD_CREATE_ORDERS === 'true';

export const options: Options = {
  stages: [
    { duration: '30s', target: Math.ceil(TARGET / 2) },
    { duration: '1m', target: TARGET },
    { duration: '2m', target: TARGET },
    { duration: '30s', target: 0 },
  ],
  thresholds: {
    http_req_duration: ['p(95)<500'],
    http_req_failed: ['rate<0.01'],
    checks: ['rate>0.99'],
  },
};

interface Page {
  items: { id: string }[];
}

export function setup(): { productIds: string[] } {
  if (!CREATE) return { productIds: [] };
  const res = http.get(`${CATALOG_URL}/products?limit=20`);
  const productIds = res.status === 200 ? (res.json() as unknown as Page).items.map((p) => p.id) : [];
  if (productIds.length === 0) throw new Error(`LOAD_CREATE_ORDERS needs products in the catalog at ${CATALOG_URL}`);
  return { productIds };
}

export default function (data: { productIds: string[] }): void {
  const list = http.get(`${BASE_URL}/orders?limit=20`, {
    tags: { name: 'orders' },
  });
  check(list, { 'list is 200': (r) => r.status === 200 });

  const items = list.status === 200 ? (list.json() as unknown as Page).items : [];
  if (items.length > 0) {
    const id = items[Math.floor(Math.random() * items.length)].id;
    const one = http.get(`${BASE_URL}/orders/${id}`, {
      tags: { name: 'orders/:id' },
    });
    check(one, { 'order is 200': (r) => r.status === 200 });
  }

  if (CREATE) {
    const productId = data.productIds[Math.floor(Math.random() * data.productIds.length)];
    const body = JSON.stringify({
      customerEmail: `load-${__VU}-${__ITER}@example.com`,
      items: [{ productId, quantity: 1 }],
    });
    const created = http.post(`${BASE_URL}/orders`, body, {
      headers: { 'content-type': 'application/json' },
      tags: { name: 'POST orders' },
    });
    check(created, { 'order created': (r) => r.status === 201 });
  }
  sleep(Math.random() * 2 + 0.5);
}
