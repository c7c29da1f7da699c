#!/usr/bin/env node
// Service plumbing benchmark (prints figures; not a test). Under k6 with the same virtual users,
// side by side on this machine:
//   1. a bare Fastify 5 server's GET /health  vs  catalog's GET /health/liveness   (goal ≥ 85 %)
//   2. a bare Fastify 5 + pg server running catalog's list query  vs  catalog's GET /products
//      against the same PostgreSQL database                                       (goal ≥ 80 %)
// catalog is the production bundle (nx run catalog:build) with every service-kit feature on:
// request ids, JSON logs (to /dev/null, as a container's stdout would be drained), metrics,
// helmet, rate limiting (its budget raised so k6 measures the limiter's cost, not 429s).
// The database is a fresh one on the shared PostgreSQL (created and dropped here).
//   node tools/bench/service-kit-bench.mjs [--vus=20] [--duration=10s] [--database-url=postgres://postgres:postgres@127.0.0.1:5432/postgres] [--no-build]
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { homedir, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createRequire } from 'node:module';

const root = resolve(import.meta.dirname, '../..');
const require = createRequire(join(root, 'package.json'));
const arg = (name, fallback) =>
  process.argv
    .find((a) => a.startsWith(`--${name}=`))
    ?.split('=')
    .slice(1)
    .join('=') ?? fallback;
const vus = Number(arg('vus', '20'));
const duration = arg('duration', '10s');
const adminUrl = arg('database-url', 'postgres://postgres:postgres@127.0.0.1:5432/postgres');
if (!Number.isInteger(vus) || vus < 1) {
  console.error(`--vus must be a positive integer, got ${arg('vus')}`);
  process.exit(2);
}

function k6Binary() {
  for (const dir of [...(process.env.PATH ?? '').split(':'), join(homedir(), 'go/bin')])
    if (dir && existsSync(join(dir, 'k6'))) return join(dir, 'k6');
  console.error('k6 not found on PATH or in ~/go/bin: run bash tools/scripts/install-k6.sh');
  process.exit(2);
}

async function freePort() {
  return new Promise((res, rej) => {
    const server = createServer();
    server.once('error', rej);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => res(port));
    });
  });
}

async function waitFor(url, timeoutMs, what) {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    const ok = await fetch(url, { signal: AbortSignal.timeout(2000) }).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${what} did not answer ${url} within ${timeoutMs} ms`);
}

const tmp = mkdtempSync(join(tmpdir(), 'slipway-service-kit-bench-'));
const children = [];
const { Client } = require('pg');
const database = `slipway_bench_${process.pid}`;
const databaseUrl = (() => {
  const u = new URL(adminUrl);
  u.pathname = `/${database}`;
  return u.toString();
})();

function start(what, args, env) {
  const child = spawn(process.execPath, args, {
    cwd: root,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (c) => (stderr += c));
  child.on('exit', (code) => {
    if (code && !child.stopping) console.error(`${what} exited ${code}: ${stderr.slice(-2000)}`);
  });
  children.push(child);
  return child;
}

// The bare servers: Fastify 5 and pg as catalog uses them, with nothing else.
const BARE = `
const fastify = require('fastify');
const app = fastify({ logger: false });
app.get('/health', async () => ({ status: 'ok' }));
if (process.env.DATABASE_URL) {
  const { Pool } = require('pg');
  const pool = new Pool({ connectionString: process.env.DATABASE_URL, max: 10 });
  const COLUMNS = 'id, sku, name, description, price_cents, currency, stock, created_at, updated_at';
  app.get('/products', async (request) => {
    const limit = Math.min(Number(request.query.limit ?? 20), 100);
    const offset = Number(request.query.offset ?? 0);
    const total = await pool.query('SELECT count(*) AS total FROM products', []);
    const page = await pool.query('SELECT ' + COLUMNS + ' FROM products ORDER BY name, id LIMIT $1 OFFSET $2', [limit, offset]);
    return {
      items: page.rows.map((row) => ({
        id: row.id, sku: row.sku, name: row.name, description: row.description, priceCents: row.price_cents,
        currency: row.currency, stock: row.stock, createdAt: row.created_at.toISOString(), updatedAt: row.updated_at.toISOString(),
      })),
      total: Number(total.rows[0].total), limit, offset,
    };
  });
}
app.listen({ port: Number(process.env.PORT), host: '127.0.0.1' });
`;

async function k6(url) {
  const script = join(tmp, 'load.js');
  writeFileSync(
    script,
    `import http from 'k6/http';\nexport const options = { vus: ${vus}, duration: '${duration}' };\nexport default function () { http.get(__ENV.TARGET); }\n`,
  );
  const summary = join(tmp, 'summary.json');
  const r = spawnSync(k6Binary(), ['run', '--quiet', '--summary-export', summary, script], {
    env: { ...process.env, TARGET: url, K6_NO_USAGE_REPORT: 'true' },
    encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(`k6 failed (${r.status}): ${r.stderr.slice(-2000)}`);
  const metrics = JSON.parse(readFileSync(summary, 'utf8')).metrics;
  const failed = metrics.http_req_failed?.passes ?? 0;
  return {
    rate: metrics.http_reqs.rate,
    count: metrics.http_reqs.count,
    failed,
    p95: metrics.http_req_duration['p(95)'],
  };
}

const results = [];
async function measure(label, url) {
  const r = await k6(url);
  results.push({ label, ...r });
  console.log(
    `${label.padEnd(34)} ${r.rate.toFixed(0).padStart(7)} req/s  p95 ${r.p95.toFixed(2)} ms  (${r.count} requests, ${r.failed} failed)`,
  );
  if (r.failed > 0) console.log(`  warning: ${r.failed} requests failed: the figure is not comparable`);
  return r.rate;
}

try {
  if (!process.argv.includes('--no-build')) {
    console.log('building catalog (nx run catalog:build)…');
    const b = spawnSync(process.execPath, [join(root, 'node_modules/nx/dist/bin/nx.js'), 'run', 'catalog:build'], {
      cwd: root,
      env: { ...process.env, NX_DAEMON: 'false' },
      encoding: 'utf8',
    });
    if (b.status !== 0) throw new Error(`catalog build failed:\n${b.stdout.slice(-3000)}${b.stderr.slice(-3000)}`);
  }
  const admin = new Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${database}`);
  await admin.end();

  const [barePort, catalogPort, barePgPort] = [await freePort(), await freePort(), await freePort()];
  start('bare fastify', ['-e', BARE], { PORT: String(barePort) });
  start('catalog', [join(root, 'apps/catalog/dist/main.js')], {
    PORT: String(catalogPort),
    HOST: '127.0.0.1',
    DATABASE_URL: databaseUrl,
    LOG_LEVEL: 'info',
    RATE_LIMIT_MAX: '1000000000',
    NODE_ENV: 'production',
  });
  await waitFor(`http://127.0.0.1:${barePort}/health`, 30_000, 'bare fastify');
  await waitFor(`http://127.0.0.1:${catalogPort}/health/readiness`, 120_000, 'catalog');
  // Started after catalog migrated and seeded the database it queries.
  start('bare fastify + pg', ['-e', BARE], { PORT: String(barePgPort), DATABASE_URL: databaseUrl });
  await waitFor(`http://127.0.0.1:${barePgPort}/products`, 30_000, 'bare fastify + pg');

  console.log(`k6: ${vus} VUs, ${duration} each, one after the other`);
  const bare = await measure('bare Fastify GET /health', `http://127.0.0.1:${barePort}/health`);
  const live = await measure('catalog GET /health/liveness', `http://127.0.0.1:${catalogPort}/health/liveness`);
  const barePg = await measure('bare Fastify + pg GET /products', `http://127.0.0.1:${barePgPort}/products`);
  const products = await measure('catalog GET /products (PostgreSQL)', `http://127.0.0.1:${catalogPort}/products`);
  console.log('');
  console.log(`liveness / bare:          ${((live / bare) * 100).toFixed(1)} %  (goal ≥ 85 %)`);
  console.log(`products / bare + pg:     ${((products / barePg) * 100).toFixed(1)} %  (goal ≥ 80 %)`);
} finally {
  for (const child of children) {
    child.stopping = true;
    if (child.exitCode === null) child.kill('SIGTERM');
  }
  await Promise.all(children.map((c) => (c.exitCode === null ? new Promise((r) => c.once('exit', r)) : null)));
  const admin = new Client({ connectionString: adminUrl });
  await admin.connect().then(
    () => admin.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`).finally(() => admin.end()),
    (error) => console.error(`could not drop ${database}: ${error.message}`),
  );
  rmSync(tmp, { recursive: true, force: true });
}
