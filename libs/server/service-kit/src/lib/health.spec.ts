import { HealthRegistry } from './health.js';
import { createService, type Service } from './service.js';

describe('HealthRegistry', () => {
  it('reports every check as up with its duration when all pass', async () => {
    const health = new HealthRegistry();
    health.add('db', async () => undefined);
    health.add('cache', () => new Promise((r) => setTimeout(r, 20)));
    const report = await health.run();
    expect(report.ready).toBe(true);
    expect(report.failing).toEqual([]);
    expect(report.checks['db']).toEqual({ status: 'up', durationMs: expect.any(Number) });
    expect(report.checks['cache'].durationMs).toBeGreaterThanOrEqual(15);
  });

  it('runs checks concurrently and bounds each by its timeout', async () => {
    const health = new HealthRegistry();
    // The hanging checks' timers are unref'd so they do not hold the test process open.
    health.add('slow-a', () => new Promise((r) => setTimeout(r, 5_000).unref()), { timeoutMs: 100 });
    health.add('slow-b', () => new Promise((r) => setTimeout(r, 5_000).unref()), { timeoutMs: 100 });
    const started = Date.now();
    const report = await health.run();
    // Unbounded the checks would take 5 s (10 s if run one after the other).
    expect(Date.now() - started).toBeLessThan(3_000);
    expect(report.failing).toEqual(['slow-a', 'slow-b']);
    expect(report.checks['slow-a']).toMatchObject({ status: 'down', error: 'timed out after 100 ms' });
  });

  it('reports rejected and synchronously throwing checks with redacted messages', async () => {
    const health = new HealthRegistry();
    health.add('db', async () => {
      throw new Error('connect ECONNREFUSED postgres://app:hunter2@127.0.0.1:5432');
    });
    health.add('sync', () => {
      throw 'plain failure';
    });
    health.add('empty', async () => {
      throw new Error('');
    });
    const report = await health.run();
    expect(report.ready).toBe(false);
    expect(report.checks['db'].error).toBe('connect ECONNREFUSED postgres://app:***@127.0.0.1:5432');
    expect(report.checks['sync'].error).toBe('plain failure');
    expect(report.checks['empty'].error).toBe('check failed');
  });

  it('adds a failing shutdown check once shutting down', async () => {
    const health = new HealthRegistry();
    health.add('db', async () => undefined);
    health.markShuttingDown();
    expect(health.isShuttingDown).toBe(true);
    const report = await health.run();
    expect(report.failing).toEqual(['shutdown']);
    expect(report.checks['shutdown']).toEqual({ status: 'down', durationMs: 0, error: 'service is shutting down' });
  });

  it('rejects bad registrations with the fix', () => {
    const health = new HealthRegistry();
    health.add('db', async () => undefined);
    expect(() => health.add('db', async () => undefined)).toThrow(
      'readiness check "db" is already registered; pick a distinct name',
    );
    expect(() => health.add('', async () => undefined)).toThrow('readiness check name must be a non-empty string');
    expect(() => health.add('x', async () => undefined, { timeoutMs: 0 })).toThrow(
      'timeoutMs must be a positive number, got 0',
    );
  });
});

describe('health endpoints', () => {
  let service: Service;
  let dbUp = true;

  beforeAll(async () => {
    process.env['APP_VERSION'] = '1.2.3';
    process.env['APP_REVISION'] = 'abc1234';
    try {
      service = await createService({
        name: 'health-test',
        logger: false,
        rateLimit: { max: 1, timeWindowMs: 60_000 },
      });
    } finally {
      delete process.env['APP_VERSION'];
      delete process.env['APP_REVISION'];
    }
    service.addReadinessCheck('db', async () => {
      if (!dbUp) throw new Error('db is down');
    });
    service.addReadinessCheck('catalog', async () => undefined, { timeoutMs: 50 });
    await service.app.ready();
  });

  afterAll(() => service.shutdown());

  it('liveness is always ok', async () => {
    const res = await service.app.inject('/health/liveness');
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ status: 'ok' });
  });

  it('readiness is 200 when every check passes and 503 naming the failing ones otherwise', async () => {
    dbUp = true;
    const ok = await service.app.inject('/health/readiness');
    expect(ok.statusCode).toBe(200);
    expect(ok.json()).toEqual({
      status: 'ready',
      checks: {
        db: { status: 'up', durationMs: expect.any(Number) },
        catalog: { status: 'up', durationMs: expect.any(Number) },
      },
    });

    dbUp = false;
    const down = await service.app.inject('/health/readiness');
    expect(down.statusCode).toBe(503);
    expect(down.json()).toEqual({
      status: 'not-ready',
      failing: ['db'],
      checks: {
        db: { status: 'down', durationMs: expect.any(Number), error: 'db is down' },
        catalog: { status: 'up', durationMs: expect.any(Number) },
      },
    });
    dbUp = true;
  });

  it('/health summarises identity from APP_VERSION/APP_REVISION, status and checks', async () => {
    const ok = await service.app.inject('/health');
    expect(ok.statusCode).toBe(200);
    expect(ok.json()).toEqual({
      service: 'health-test',
      version: '1.2.3',
      revision: 'abc1234',
      status: 'ok',
      uptimeSeconds: expect.any(Number),
      checks: expect.objectContaining({ db: expect.objectContaining({ status: 'up' }) }),
    });
    dbUp = false;
    expect((await service.app.inject('/health')).json().status).toBe('degraded');
    dbUp = true;
  });

  it('probes are exempt from rate limiting', async () => {
    for (let i = 0; i < 5; i++) {
      expect((await service.app.inject('/health/liveness')).statusCode).toBe(200);
      expect((await service.app.inject('/health/readiness')).statusCode).toBe(200);
    }
  });

  it('defaults version and revision when the environment has none', async () => {
    const plain = await createService({ name: 'plain', logger: false });
    try {
      expect((await plain.app.inject('/health')).json()).toMatchObject({
        version: '0.0.0-dev',
        revision: 'unknown',
        checks: {},
      });
    } finally {
      await plain.shutdown();
    }
  });
});
