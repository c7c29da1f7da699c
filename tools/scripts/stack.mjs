#!/usr/bin/env node
// The whole sample stack on this machine, on its embedded defaults: builds catalog, orders and web,
// starts their production bundles (catalog and orders on in-memory PGlite, no Redis), waits until
// each answers /health/readiness, prints URLs and versions, and keeps running until Ctrl-C.
//
//   npm run stack                 build, start, print, run until Ctrl-C (stops its children by PID)
//   npm run stack -- --check      build, start, verify, print, stop; exit 0 when all were ready
//   npm run stack -- --no-build   use the existing builds
//
// Ports: CATALOG_PORT (3101), ORDERS_PORT (3102), WEB_PORT (4300). Logs: .local/stack/<service>.log
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const HOST = '127.0.0.1';
const READY_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 15_000;
const logDir = path.join(root, '.local', 'stack');

function fail(message) {
  console.error(`stack: error: ${message}`);
  process.exit(1);
}

function parseArgs(argv) {
  const options = { check: false, build: true };
  for (const arg of argv) {
    if (arg === '--check') options.check = true;
    else if (arg === '--no-build') options.build = false;
    else fail(`unknown argument "${arg}". Usage: npm run stack [-- --check] [-- --no-build]`);
  }
  return options;
}

function port(variable, fallback) {
  const raw = process.env[variable];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1 || value > 65535) {
    fail(
      `${variable}="${raw}" is not a TCP port; set it to a number from 1 to 65535 or unset it (default ${fallback}).`,
    );
  }
  return value;
}

/** Where each service's production bundle is, from its Nx build target (single source of truth). */
async function entryPoints() {
  const { createProjectGraphAsync } = require('@nx/devkit');
  const graph = await createProjectGraphAsync({ exitOnError: true });
  const entry = (project, target) => {
    const options = graph.nodes[project]?.data.targets?.[target]?.options;
    if (!options?.outputPath || !options?.main) {
      fail(
        `project "${project}" has no "${target}" target with outputPath and main; the stack cannot find its bundle.`,
      );
    }
    return path.join(root, options.outputPath, `${path.basename(options.main, path.extname(options.main))}.js`);
  };
  return {
    catalog: entry('catalog', 'build'),
    orders: entry('orders', 'build'),
    web: entry('web', 'build-server'),
  };
}

function gitRevision() {
  const result = spawnSync('git', ['rev-parse', 'HEAD'], {
    cwd: root,
    encoding: 'utf8',
  });
  return result.status === 0 ? result.stdout.trim() : 'unknown';
}

function packageVersion(dir) {
  return JSON.parse(readFileSync(path.join(root, dir, 'package.json'), 'utf8')).version;
}

function portIsFree(portNumber) {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen(portNumber, HOST, () => server.close(() => resolve(true)));
  });
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function getJson(url) {
  const response = await fetch(url, { signal: AbortSignal.timeout(3_000) });
  return {
    status: response.status,
    body: await response.json().catch(() => null),
  };
}

function lastLines(file, count = 15) {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-count).join('\n');
  } catch {
    return '(no log)';
  }
}

const running = [];

function start(service, revision) {
  const log = path.join(logDir, `${service.name}.log`);
  const fd = openSync(log, 'w');
  const env = { ...process.env };
  // Embedded defaults: no external database or Redis even if the shell has them set.
  for (const variable of ['DATABASE_URL', 'REDIS_URL', 'PGLITE_DATA_DIR', 'PORT', 'HOST']) delete env[variable];
  Object.assign(env, {
    NODE_ENV: 'production',
    HOST,
    PORT: String(service.port),
    APP_VERSION: service.version,
    APP_REVISION: revision,
    ...service.env,
  });
  const child = spawn(process.execPath, [service.entry], {
    cwd: root,
    env,
    stdio: ['ignore', fd, fd],
  });
  closeSync(fd);
  const entry = { ...service, child, log, exited: null };
  child.on('exit', (code, signal) => {
    entry.exited = { code, signal };
  });
  running.push(entry);
  return entry;
}

async function waitReady(entry) {
  const url = `http://${HOST}:${entry.port}/health/readiness`;
  const deadline = Date.now() + READY_TIMEOUT_MS;
  let last = 'no answer yet';
  while (Date.now() < deadline) {
    if (entry.exited) {
      throw new Error(
        `${entry.name} exited (${entry.exited.signal ?? `code ${entry.exited.code}`}) before it was ready. Last log lines (${entry.log}):\n${lastLines(entry.log)}`,
      );
    }
    try {
      const { status, body } = await getJson(url);
      if (status === 200) return;
      last = `HTTP ${status} ${JSON.stringify(body)}`;
    } catch (error) {
      last = error.cause?.code ?? error.message;
    }
    await sleep(250);
  }
  throw new Error(
    `${entry.name} was not ready at ${url} within ${READY_TIMEOUT_MS / 1000}s (last: ${last}). Log: ${entry.log}`,
  );
}

async function stopAll() {
  const alive = running.filter((entry) => !entry.exited);
  // Reverse start order: web first, catalog last.
  for (const entry of alive.reverse()) {
    try {
      process.kill(entry.child.pid, 'SIGTERM');
    } catch {
      // Already gone.
    }
  }
  const deadline = Date.now() + STOP_TIMEOUT_MS;
  while (running.some((entry) => !entry.exited) && Date.now() < deadline) await sleep(100);
  for (const entry of running.filter((e) => !e.exited)) {
    console.error(
      `stack: ${entry.name} (pid ${entry.child.pid}) did not stop within ${STOP_TIMEOUT_MS / 1000}s; killing it`,
    );
    try {
      process.kill(entry.child.pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
}

async function main() {
  const options = parseArgs(process.argv.slice(2));
  const catalogPort = port('CATALOG_PORT', 3101);
  const ordersPort = port('ORDERS_PORT', 3102);
  const webPort = port('WEB_PORT', 4300);
  if (new Set([catalogPort, ordersPort, webPort]).size !== 3) {
    fail(`CATALOG_PORT, ORDERS_PORT and WEB_PORT must differ (got ${catalogPort}, ${ordersPort}, ${webPort}).`);
  }
  const catalogUrl = `http://${HOST}:${catalogPort}`;
  const ordersUrl = `http://${HOST}:${ordersPort}`;

  if (options.build) {
    console.log('stack: building catalog, orders and web');
    const build = spawnSync(
      'npx',
      ['nx', 'run-many', '-t', 'build', '-p', 'catalog', 'orders', 'web', '--outputStyle=static'],
      {
        cwd: root,
        stdio: 'inherit',
        env: { ...process.env, NX_DAEMON: process.env.NX_DAEMON ?? 'false' },
      },
    );
    if (build.status !== 0)
      fail('the build failed (output above); fix it or run with --no-build to use the previous builds.');
  }

  const entries = await entryPoints();
  const services = [
    {
      name: 'catalog',
      dir: 'apps/catalog',
      port: catalogPort,
      entry: entries.catalog,
      env: {},
    },
    {
      name: 'orders',
      dir: 'apps/orders',
      port: ordersPort,
      entry: entries.orders,
      env: { CATALOG_URL: catalogUrl },
    },
    {
      name: 'web',
      dir: 'apps/web',
      port: webPort,
      entry: entries.web,
      env: { CATALOG_URL: catalogUrl, ORDERS_URL: ordersUrl },
    },
  ].map((service) => ({ ...service, version: packageVersion(service.dir) }));

  for (const service of services) {
    if (!existsSync(service.entry)) {
      fail(`${path.relative(root, service.entry)} does not exist; build first (npm run stack without --no-build).`);
    }
    if (!(await portIsFree(service.port))) {
      const variable = `${service.name.toUpperCase()}_PORT`;
      fail(
        `port ${service.port} (${service.name}) is already in use; stop what listens there or set ${variable} to a free port.`,
      );
    }
  }

  mkdirSync(logDir, { recursive: true });
  const revision = gitRevision();
  let stopping = false;
  const shutdown = async (code) => {
    if (stopping) return;
    stopping = true;
    await stopAll();
    process.exit(code);
  };
  process.on('SIGINT', () => void shutdown(0));
  process.on('SIGTERM', () => void shutdown(0));

  try {
    // Catalog first: orders prices items against it and web proxies to both.
    for (const service of services) {
      const entry = start(service, revision);
      console.log(`stack: started ${service.name} (pid ${entry.child.pid}), waiting for readiness`);
      await waitReady(entry);
    }
  } catch (error) {
    console.error(`stack: error: ${error.message}`);
    await shutdown(1);
    return;
  }

  // Each service must report the version and revision it was started with: proof that what answers
  // is this build, not something else already listening.
  const problems = [];
  console.log('\nstack: ready');
  for (const entry of running) {
    const url = `http://${HOST}:${entry.port}`;
    const { body } = await getJson(`${url}/health`).catch(() => ({
      body: null,
    }));
    if (body?.version !== entry.version || body?.revision !== revision) {
      problems.push(
        `${entry.name} reports ${JSON.stringify({ version: body?.version, revision: body?.revision })} on ${url}/health, expected version ${entry.version} and revision ${revision}`,
      );
    }
    const reported = body
      ? `version ${body.version}, revision ${String(body.revision).slice(0, 12)}, ${body.status}`
      : 'no /health';
    console.log(
      `  ${entry.name.padEnd(8)} ${url.padEnd(24)} ${reported}  (pid ${entry.child.pid}, log ${path.relative(root, entry.log)})`,
    );
  }
  // And the wiring: web's production server reaches both services through its /api proxy.
  for (const [service, apiPath] of [
    ['catalog', '/api/catalog/products?limit=1'],
    ['orders', '/api/orders/orders?limit=1'],
  ]) {
    const url = `http://${HOST}:${webPort}${apiPath}`;
    const { status, body } = await getJson(url).catch((error) => ({
      status: error.message,
      body: null,
    }));
    if (status !== 200 || !Array.isArray(body?.items)) {
      problems.push(`web does not reach ${service}: GET ${url} answered ${status} ${JSON.stringify(body)}`);
    }
  }
  console.log(`\n  Open http://${HOST}:${webPort}/ (products), /order, /status.`);
  if (problems.length > 0) {
    for (const problem of problems) console.error(`stack: error: ${problem}`);
    await shutdown(1);
    return;
  }

  if (options.check) {
    console.log('stack: check passed, stopping');
    await shutdown(0);
    return;
  }
  console.log('  Press Ctrl-C to stop.');
  const onExit = (entry) => {
    if (stopping) return;
    const how = entry.exited.signal ?? `code ${entry.exited.code}`;
    console.error(
      `stack: ${entry.name} exited unexpectedly (${how}); stopping the rest. Log:\n${lastLines(entry.log)}`,
    );
    void shutdown(1);
  };
  for (const entry of running) {
    if (entry.exited) onExit(entry);
    else entry.child.on('exit', () => onExit(entry));
  }
}

main().catch(async (error) => {
  console.error(`stack: error: ${error.stack ?? error}`);
  await stopAll();
  process.exit(1);
});
