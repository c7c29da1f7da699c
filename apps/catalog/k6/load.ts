// k6 load test for catalog: ramps virtual users up, holds, and ramps down on the browse/search paths.
//   BASE_URL=https://catalog.staging.example.com k6 run apps/catalog/k6/load.ts   (or: nx run catalog:load)
// Not part of the default test run. LOAD_TARGET_VUS scales the plateau (default 20).
import { check, sleep } from 'k6';
import http from 'k6/http';
import type { Options } from 'k6/options';

const BASE_URL = (__ENV.BASE_URL || 'http://127.0.0.1:3101').replace(/\/+$/, '');
const TARGET = Number(__ENV.LOAD_TARGET_VUS || 20);
const TERMS = ['a', 'e', 'pro', 'smoke', 'zz'];

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

interface ProductPage {
  items: { id: string }[];
  total: number;
}

export default function (): void {
  const offset = Math.floor(Math.random() * 3) * 20;
  const page = http.get(`${BASE_URL}/products?limit=20&offset=${offset}`, {
    tags: { name: 'products' },
  });
  check(page, { 'page is 200': (r) => r.status === 200 });

  const term = TERMS[Math.floor(Math.random() * TERMS.length)];
  const search = http.get(`${BASE_URL}/products?q=${term}&limit=10`, {
    tags: { name: 'products?q' },
  });
  check(search, { 'search is 200': (r) => r.status === 200 });

  const items = page.status === 200 ? (page.json() as unknown as ProductPage).items : [];
  if (items.length > 0) {
    const id = items[Math.floor(Math.random() * items.length)].id;
    const one = http.get(`${BASE_URL}/products/${id}`, {
      tags: { name: 'products/:id' },
    });
    check(one, { 'product is 200': (r) => r.status === 200 });
  }
  sleep(Math.random() * 2 + 0.5);
}
