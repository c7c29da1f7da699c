import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, createServer, request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { homedir, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { buildSync } from 'esbuild';

/*
 * SIGTERM draining against a real child process: a fixture service (test-support/sigterm-fixture.ts)
 * bundled with esbuild (dependencies stay external and resolve from the workspace node_modules),
 * started with `node`, loaded with slow requests, then sent SIGTERM by PID.
 */

const WORKSPACE_NODE_MODULES = dirname(dirname(require.resolve('fastify/package.json')));

interface FixtureEvent {
  fixtureEvent: string;
  [key: string]: unknown;
}

interface RunningFixture {
  child: ChildProcess;
  url: string;
  events: FixtureEvent[];
  logs: Record<string, unknown>[];
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>;
  waitFor(predicate: (e: FixtureEvent) => boolean, timeoutMs?: number): Promise<FixtureEvent>;
  /** Resolves once the child has logged `msg`: proof it has handled the signal, not just received it. */
  waitForLog(msg: string, timeoutMs?: number): Promise<void>;
}

const SHUTTING_DOWN = 'shutting down: readiness is now 503, draining in-flight requests';

/** k6 on PATH, else where tools/scripts/install-k6.sh puts it (the Go bin dir). */
function k6Binary(): string {
  for (const dir of [...(process.env['PATH'] ?? '').split(':'), join(homedir(), 'go/bin')]) {
    if (dir && existsSync(join(dir, 'k6'))) return join(dir, 'k6');
  }
  throw new Error('k6 not found on PATH or in ~/go/bin: run bash tools/scripts/install-k6.sh');
}

/** Round-robin over the backends whose readiness answered 200 at the last poll (every 200 ms). */
async function startBalancer(backends: string[]): Promise<{ url: string; close: () => Promise<void> }> {
  const ready = new Set<string>();
  const agent = new Agent({ keepAlive: true });
  const poll = async () => {
    await Promise.all(
      backends.map(async (backend) => {
        const ok = await fetch(`${backend}/health/readiness`, { signal: AbortSignal.timeout(1000) }).then(
          (r) => r.status === 200,
          () => false,
        );
        if (ok) ready.add(backend);
        else ready.delete(backend);
      }),
    );
  };
  await poll();
  const poller = setInterval(() => void poll(), 200);
  let next = 0;
  const server = createServer((req, res) => {
    const pool = backends.filter((b) => ready.has(b));
    const backend = pool[next++ % Math.max(1, pool.length)];
    if (!backend) {
      res.writeHead(503).end('no ready backend');
      return;
    }
    const upstream = httpRequest(`${backend}${req.url}`, { method: req.method, headers: req.headers, agent }, (up) => {
      res.writeHead(up.statusCode ?? 502, up.headers);
      up.pipe(res);
    });
    upstream.on('error', (error) => {
      if (!res.headersSent) res.writeHead(502);
      res.end(`upstream ${backend} failed: ${error.message}`);
    });
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: async () => {
      clearInterval(poller);
      agent.destroy();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

describe('SIGTERM draining in a real process', () => {
  let workDir: string;
  let fixtureJs: string;
  const children: ChildProcess[] = [];

  beforeAll(() => {
    workDir = mkdtempSync(join(tmpdir(), 'service-kit-sigterm-'));
    fixtureJs = join(workDir, 'sigterm-fixture.js');
    buildSync({
      entryPoints: [join(__dirname, 'test-support', 'sigterm-fixture.ts')],
      outfile: fixtureJs,
      bundle: true,
      platform: 'node',
      format: 'cjs',
      target: 'node20',
      packages: 'external',
      logLevel: 'warning',
    });
  });

  afterEach(() => {
    for (const child of children.splice(0)) {
      if (child.exitCode === null && child.signalCode === null && child.pid) process.kill(child.pid, 'SIGKILL');
    }
  });

  afterAll(() => {
    rmSync(workDir, { recursive: true, force: true });
  });

  async function startFixture(env: Record<string, string>): Promise<RunningFixture> {
    const child = spawn(process.execPath, [fixtureJs], {
      env: {
        PATH: process.env['PATH'],
        NODE_PATH: WORKSPACE_NODE_MODULES,
        PORT: '0',
        HOST: '127.0.0.1',
        LOG_LEVEL: 'info',
        RATE_LIMIT_MAX: '1000',
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(child);
    const events: FixtureEvent[] = [];
    const logs: Record<string, unknown>[] = [];
    const waiters: { predicate: (e: FixtureEvent) => boolean; resolve: (e: FixtureEvent) => void }[] = [];
    const logWaiters: { msg: string; resolve: () => void }[] = [];
    let stderr = '';
    let pending = '';
    child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.stdout?.on('data', (chunk: Buffer) => {
      pending += chunk.toString();
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines.filter((l) => l.trim() !== '')) {
        const parsed = JSON.parse(line) as Record<string, unknown>;
        if (typeof parsed['fixtureEvent'] !== 'string') {
          logs.push(parsed);
          for (const waiter of logWaiters.filter((w) => w.msg === parsed['msg'])) {
            logWaiters.splice(logWaiters.indexOf(waiter), 1);
            waiter.resolve();
          }
          continue;
        }
        const event = parsed as FixtureEvent;
        events.push(event);
        for (const waiter of waiters.filter((w) => w.predicate(event))) {
          waiters.splice(waiters.indexOf(waiter), 1);
          waiter.resolve(event);
        }
      }
    });
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>((resolve) =>
      child.on('exit', (code, signal) => resolve({ code, signal, at: Date.now() })),
    );
    const waitFor = (predicate: (e: FixtureEvent) => boolean, timeoutMs = 15_000) => {
      const seen = events.find(predicate);
      if (seen) return Promise.resolve(seen);
      return new Promise<FixtureEvent>((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`fixture event not seen within ${timeoutMs} ms; stderr: ${stderr}`)),
          timeoutMs,
        );
        waiters.push({ predicate, resolve: (e) => (clearTimeout(timer), resolve(e)) });
      });
    };
    const waitForLog = (msg: string, timeoutMs = 15_000) => {
      if (logs.some((l) => l['msg'] === msg)) return Promise.resolve();
      return new Promise<void>((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`log line "${msg}" not seen within ${timeoutMs} ms; stderr: ${stderr}`)),
          timeoutMs,
        );
        logWaiters.push({ msg, resolve: () => (clearTimeout(timer), resolve()) });
      });
    };
    const listening = await waitFor((e) => e.fixtureEvent === 'listening');
    return { child, url: listening['url'] as string, events, logs, exited, waitFor, waitForLog };
  }

  function fireSlowRequests(url: string, count: number): Promise<number | string>[] {
    return Array.from({ length: count }, () =>
      fetch(`${url}/slow`).then(
        async (res) => {
          await res.text();
          return res.status;
        },
        (error: Error) => `failed: ${error.message}`,
      ),
    );
  }

  it('answers readiness 503 at once, completes every in-flight request, closes pools, exits 0 in time', async () => {
    const shutdownTimeoutMs = 8_000;
    const fixture = await startFixture({
      SLOW_MS: '2500',
      DRAIN_DELAY_MS: '1500',
      SHUTDOWN_TIMEOUT_MS: String(shutdownTimeoutMs),
    });
    const inFlight = fireSlowRequests(fixture.url, 5);
    await fixture.waitFor((e) => e.fixtureEvent === 'request-started' && e['started'] === 5);

    const signalledAt = Date.now();
    expect(fixture.child.pid).toBeDefined();
    process.kill(fixture.child.pid as number, 'SIGTERM');

    // The signal arrives asynchronously; once the child has handled it, readiness must be 503 at
    // once, while the listener is still open (DRAIN_DELAY_MS) and the slow requests still run.
    await fixture.waitForLog(SHUTTING_DOWN);
    const readiness = await fetch(`${fixture.url}/health/readiness`);
    expect(readiness.status).toBe(503);
    expect(await readiness.json()).toMatchObject({ status: 'not-ready', failing: ['shutdown'] });
    expect(fixture.events.some((e) => e.fixtureEvent === 'pool-closed')).toBe(false);

    expect(await Promise.all(inFlight)).toEqual([200, 200, 200, 200, 200]);
    const exit = await fixture.exited;
    expect(exit).toMatchObject({ code: 0, signal: null });
    expect(exit.at - signalledAt).toBeLessThan(shutdownTimeoutMs);

    // The pool closed after all five requests completed, and the log tells the story.
    expect(fixture.events.find((e) => e.fixtureEvent === 'pool-closed')).toMatchObject({ completed: 5 });
    expect(fixture.logs.map((l) => l['msg'])).toContain('shutdown complete');
    expect(fixture.logs.find((l) => l['msg'] === SHUTTING_DOWN)).toMatchObject({
      reason: 'received SIGTERM',
      service: 'sigterm-fixture',
    });
  });

  it('drains without a delay: new connections are refused or answered 503, in-flight requests finish', async () => {
    const fixture = await startFixture({ SLOW_MS: '1000', SHUTDOWN_TIMEOUT_MS: '8000' });
    const inFlight = fireSlowRequests(fixture.url, 3);
    await fixture.waitFor((e) => e.fixtureEvent === 'request-started' && e['started'] === 3);
    process.kill(fixture.child.pid as number, 'SIGTERM');
    await fixture.waitForLog(SHUTTING_DOWN);

    const readiness = await fetch(`${fixture.url}/health/readiness`).then(
      (r) => r.status,
      () => 'refused',
    );
    expect([503, 'refused']).toContain(readiness);
    expect(await Promise.all(inFlight)).toEqual([200, 200, 200]);
    expect(await fixture.exited).toMatchObject({ code: 0, signal: null });
  });

  describe('a restart behind a load balancer, under k6 load', () => {
    /**
     * What a rolling restart does to a service: the new instance is up, the old one gets SIGTERM,
     * and the balancer (here a small one like a Service's endpoints: it polls each instance's
     * readiness every 200 ms and routes round-robin to the ready ones) stops sending to it once it
     * sees 503. k6 keeps 20 virtual users busy through the whole restart.
     */
    async function restartUnderLoad(
      drainDelayMs: string,
    ): Promise<{ requests: number; failed: number; oldExit: number | null }> {
      // The balancer is one client: a rate limit would answer 429 long before the restart.
      const env = {
        DRAIN_DELAY_MS: drainDelayMs,
        SHUTDOWN_TIMEOUT_MS: '8000',
        SLOW_MS: '5',
        LOG_LEVEL: 'warn',
        RATE_LIMIT_MAX: '1000000',
      };
      const [old, fresh] = await Promise.all([startFixture(env), startFixture(env)]);
      const balancer = await startBalancer([old.url, fresh.url]);
      try {
        const summary = join(workDir, `k6-summary-${drainDelayMs}.json`);
        const script = join(workDir, 'restart-load.js');
        writeFileSync(
          script,
          "import http from 'k6/http';\nexport const options = { vus: 20, duration: '5s' };\nexport default function () { http.get(`${__ENV.BASE_URL}/slow`); }\n",
        );
        const k6 = spawn(k6Binary(), ['run', '--quiet', '--summary-export', summary, script], {
          env: { ...process.env, BASE_URL: balancer.url, K6_NO_USAGE_REPORT: 'true' },
          stdio: 'ignore',
        });
        const k6Exited = new Promise<void>((resolve) => k6.on('exit', () => resolve()));
        await new Promise((r) => setTimeout(r, 1500));
        if (old.child.pid) process.kill(old.child.pid, 'SIGTERM');
        const oldExit = (await old.exited).code;
        await k6Exited;
        const metrics = JSON.parse(readFileSync(summary, 'utf8')).metrics as Record<string, Record<string, number>>;
        // A k6 Rate metric counts true samples as "passes": here, the failed requests.
        return {
          requests: metrics['http_reqs']?.['count'] ?? 0,
          failed: metrics['http_req_failed']?.['passes'] ?? -1,
          oldExit,
        };
      } finally {
        await balancer.close();
      }
    }

    it('with DRAIN_DELAY_MS longer than the balancer takes to notice, no request fails', async () => {
      const run = await restartUnderLoad('1500');
      expect(run.oldExit).toBe(0);
      expect(run.requests).toBeGreaterThan(100);
      expect(run.failed).toBe(0);
    }, 60_000);

    it('without it, requests routed to the old instance before the balancer noticed fail (the control)', async () => {
      const run = await restartUnderLoad('0');
      expect(run.oldExit).toBe(0);
      expect(run.requests).toBeGreaterThan(100);
      expect(run.failed).toBeGreaterThan(0);
    }, 60_000);
  });

  it('force-exits with code 1 within SHUTDOWN_TIMEOUT_MS when requests cannot drain', async () => {
    const shutdownTimeoutMs = 1_000;
    const fixture = await startFixture({ SLOW_MS: '60000', SHUTDOWN_TIMEOUT_MS: String(shutdownTimeoutMs) });
    const stuck = fireSlowRequests(fixture.url, 2);
    await fixture.waitFor((e) => e.fixtureEvent === 'request-started' && e['started'] === 2);

    const signalledAt = Date.now();
    process.kill(fixture.child.pid as number, 'SIGTERM');
    const exit = await fixture.exited;
    expect(exit).toMatchObject({ code: 1, signal: null });
    const elapsed = exit.at - signalledAt;
    expect(elapsed).toBeGreaterThanOrEqual(shutdownTimeoutMs - 50);
    // The margin covers process exit on a loaded machine; the request itself would take 60 s.
    expect(elapsed).toBeLessThan(shutdownTimeoutMs + 2_500);

    for (const outcome of await Promise.all(stuck)) expect(outcome).toMatch(/^failed: /);
    expect(fixture.events.some((e) => e.fixtureEvent === 'pool-closed')).toBe(false);
    expect(fixture.logs.some((l) => String(l['msg']).includes('shutdown did not finish within 1000 ms'))).toBe(true);
  });

  it('refuses to start with one ConfigError naming every bad variable', async () => {
    const child = spawn(process.execPath, [fixtureJs], {
      env: {
        PATH: process.env['PATH'],
        NODE_PATH: WORKSPACE_NODE_MODULES,
        PORT: 'eighty',
        SHUTDOWN_TIMEOUT_MS: 'soon',
        REDIS_URL: 'nope:pw',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(child);
    let stderr = '';
    child.stderr?.on('data', (c: Buffer) => (stderr += c.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
    expect(code).toBe(2);
    expect(stderr).toContain('Invalid configuration: 3 problems');
    expect(stderr).toContain('PORT: "eighty" is not an integer');
    expect(stderr).toContain('REDIS_URL: (value hidden: secret) is not a valid absolute URL');
    expect(stderr).toContain('SHUTDOWN_TIMEOUT_MS: "soon" is not a duration');
    expect(stderr).not.toContain('nope:pw');
  });
});
