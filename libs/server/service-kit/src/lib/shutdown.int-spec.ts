import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
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
