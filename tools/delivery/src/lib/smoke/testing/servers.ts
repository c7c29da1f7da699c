import { spawn, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';

/**
 * Real HTTP servers for the smoke integration suites, on 127.0.0.1 and an ephemeral port.
 * Each scenario is a small purpose-built node:http server behaving like a deployed service in one
 * particular way (slow to become ready, old version, flapping, 500s, hanging, refusing).
 */
export interface TestServer {
  url: string;
  port: number;
  /** Every request seen: method, path (with query) and ms since the server started. */
  requests: { method: string; path: string; atMs: number }[];
  close(): Promise<void>;
}

export type Handler = (req: IncomingMessage, res: ServerResponse, ctx: { elapsedMs: number; count: number }) => void;

export async function startServer(handler: Handler): Promise<TestServer> {
  const started = performance.now();
  const requests: TestServer['requests'] = [];
  const server: Server = createServer((req, res) => {
    requests.push({
      method: req.method ?? 'GET',
      path: req.url ?? '/',
      atMs: performance.now() - started,
    });
    handler(req, res, {
      elapsedMs: performance.now() - started,
      count: requests.length,
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        // Hanging scenarios keep sockets open on purpose: cut them so close() returns.
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A port nothing listens on: bound once by the OS, then released. */
export async function refusingPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}

export interface ServiceBehaviour {
  /** What /health reports, possibly changing over time. */
  version?: (elapsedMs: number) => { version: string; revision: string };
  /** Readiness: true → 200 ready, false → 503 not-ready (failing db). */
  ready?: (elapsedMs: number) => boolean;
  /** Answer for the check route /products (status + body), given the request count. */
  products?: (count: number, res: ServerResponse) => void;
}

/** A service-shaped server (service-kit's health endpoints) whose behaviour is set per scenario. */
export function scenarioService(behaviour: ServiceBehaviour = {}): Handler {
  const version = behaviour.version ?? (() => ({ version: '1.0.0', revision: 'a'.repeat(40) }));
  const ready = behaviour.ready ?? (() => true);
  let productCalls = 0;
  return (req, res, ctx) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/health/readiness') {
      return ready(ctx.elapsedMs)
        ? sendJson(res, 200, {
            status: 'ready',
            checks: { db: { status: 'up' } },
          })
        : sendJson(res, 503, {
            status: 'not-ready',
            failing: ['db'],
            checks: { db: { status: 'down', error: 'connect ECONNREFUSED' } },
          });
    }
    if (path === '/health')
      return sendJson(res, 200, {
        service: 'catalog',
        status: 'ok',
        uptimeSeconds: 1,
        checks: {},
        ...version(ctx.elapsedMs),
      });
    if (path === '/products') {
      productCalls += 1;
      if (behaviour.products) return behaviour.products(productCalls, res);
      return sendJson(res, 200, {
        items: [{ id: '1', currency: 'EUR' }],
        total: 1,
        limit: 5,
        offset: 0,
      });
    }
    sendJson(res, 404, {
      statusCode: 404,
      error: 'Not Found',
      message: `no route ${path}`,
    });
  };
}

// ---------------------------------------------------------------------------------------------
// The real services (apps/<project> built output, PGlite by default) as child processes.

export interface RunningService {
  url: string;
  pid: number;
  output: () => string;
  stop(): Promise<void>;
}

export const WORKSPACE_ROOT = join(__dirname, '../../../../../..');

/** The built entry point of each sample service, relative to its dist/. */
export const SERVICE_MAIN = {
  catalog: 'main.js',
  orders: 'main.js',
  web: 'server/main.js',
} as const;
export type SampleService = keyof typeof SERVICE_MAIN;

/**
 * Copies apps/<project>/dist to a private folder inside the workspace (so node still resolves the
 * workspace's node_modules): other engineers rebuild the apps in the same tree, and a rebuild
 * empties dist/ under a running test. test-output/ is git-ignored.
 */
export function snapshotBuild(project: SampleService = 'catalog'): {
  dir: string;
  cleanup: () => void;
} {
  const source = join(WORKSPACE_ROOT, 'apps', project, 'dist');
  if (!existsSync(join(source, SERVICE_MAIN[project])))
    throw new Error(`${source}/${SERVICE_MAIN[project]} is missing: run "nx run ${project}:build"`);
  const parent = join(WORKSPACE_ROOT, 'tools/delivery/test-output');
  mkdirSync(parent, { recursive: true });
  const dir = mkdtempSync(join(parent, `smoke-${project}-`));
  cpSync(source, dir, { recursive: true });
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export interface StartServiceOptions {
  project?: SampleService;
  version: string;
  revision: string;
  /** A snapshot from snapshotBuild; defaults to apps/<project>/dist. */
  distDir?: string;
  port?: number;
  env?: Record<string, string>;
  timeoutMs?: number;
}

/**
 * Starts a sample service's built output with APP_VERSION/APP_REVISION and waits (bounded) until
 * /health/readiness answers 200. Stop it with stop(): SIGTERM by PID, SIGKILL after 10 s.
 */
export async function startService(options: StartServiceOptions): Promise<RunningService> {
  const project = options.project ?? 'catalog';
  const port = options.port ?? 0;
  const distDir = options.distDir ?? join(WORKSPACE_ROOT, 'apps', project, 'dist');
  const child: ChildProcess = spawn(process.execPath, [join(distDir, SERVICE_MAIN[project])], {
    cwd: WORKSPACE_ROOT,
    env: {
      PATH: process.env['PATH'],
      HOME: process.env['HOME'],
      HOST: '127.0.0.1',
      PORT: String(port),
      APP_VERSION: options.version,
      APP_REVISION: options.revision,
      LOG_LEVEL: 'info',
      // Smoke and k6 send far more than a user would: keep the rate limit out of the measurement.
      RATE_LIMIT_MAX: '100000',
      ...options.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    }
  };
  const timeoutMs = options.timeoutMs ?? 90_000;
  const deadline = performance.now() + timeoutMs;
  let url = '';
  while (performance.now() < deadline) {
    if (child.exitCode !== null)
      throw new Error(`${project} exited with ${child.exitCode} before it was ready:\n${output}`);
    url ||= /"url":"(http:\/\/[^"]+)"/.exec(output)?.[1] ?? '';
    if (url) {
      const status = await fetch(`${url}/health/readiness`).then(
        (r) => r.status,
        () => 0,
      );
      if (status === 200) return { url, pid: child.pid as number, output: () => output, stop };
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  await stop();
  throw new Error(`${project} was not ready within ${timeoutMs} ms:\n${output}`);
}

export const startCatalog = (options: Omit<StartServiceOptions, 'project'>): Promise<RunningService> =>
  startService({ ...options, project: 'catalog' });

export interface WorkspaceRun {
  code: number | null;
  output: string;
  durationMs: number;
}

/**
 * Runs a command from the workspace root, as a user would (e.g. `npx nx run catalog:smoke:local`),
 * with Nx's and Jest's per-task variables removed: a nested nx must not inherit them. Killed by PID
 * after timeoutMs.
 */
export function runInWorkspace(
  command: string,
  args: string[],
  env: Record<string, string>,
  timeoutMs = 300_000,
): Promise<WorkspaceRun> {
  const clean: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env))
    if (!key.startsWith('NX_') && !key.startsWith('JEST_')) clean[key] = value;
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: WORKSPACE_ROOT,
      env: {
        ...clean,
        NX_DAEMON: 'false',
        NX_TUI: 'false',
        CI: 'true',
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (c: Buffer) => (output += c.toString()));
    child.stderr.on('data', (c: Buffer) => (output += c.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, output, durationMs: performance.now() - started });
    });
  });
}
