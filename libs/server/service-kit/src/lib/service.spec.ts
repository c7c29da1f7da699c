import { baseConfig, loadConfig } from './config.js';
import { createService, serviceOptionsFromConfig, type Service } from './service.js';
import { closedPort, logCapture } from './test-support/servers.js';

describe('createService', () => {
  const started: Service[] = [];
  async function make(opts: Parameters<typeof createService>[0]): Promise<Service> {
    const service = await createService(opts);
    started.push(service);
    return service;
  }
  afterEach(async () => {
    await Promise.all(started.splice(0).map((s) => s.shutdown()));
  });

  it('rejects invalid options, naming each one and the fix, without echoing the Redis URL', async () => {
    await expect(
      createService({
        name: ' ',
        port: 70_000,
        shutdownTimeoutMs: 0,
        rateLimit: { max: 0, timeWindowMs: 1.5 },
        redisUrl: 'http://:topsecret@127.0.0.1',
      }),
    ).rejects.toThrow(
      'createService: name must be a non-empty string (the service name shown by /health and in logs); ' +
        'port must be an integer from 0 to 65535, got 70000; shutdownTimeoutMs must be a positive number, got 0; ' +
        'rateLimit.max must be an integer >= 1, got 0; rateLimit.timeWindowMs must be an integer >= 1, got 1.5; ' +
        'redisUrl must be a redis:// or rediss:// URL (value hidden: may hold a password)',
    );
  });

  it('listens on an ephemeral port and returns a usable base URL', async () => {
    const service = await make({ name: 'listen-test', port: 0, logger: false });
    const url = await service.listen();
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(url).not.toMatch(/:0$/);
    expect((await fetch(`${url}/health/liveness`)).status).toBe(200);
  });

  it('maps a wildcard bind to a loopback URL', async () => {
    const service = await make({ name: 'wildcard-test', port: 0, host: '0.0.0.0', logger: false });
    expect(await service.listen()).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  });

  it('brackets an IPv6 host in the URL', async () => {
    const service = await make({ name: 'ipv6-test', port: 0, host: '::1', logger: false });
    const url = await service.listen().catch(() => 'unsupported');
    if (url !== 'unsupported') expect(url).toMatch(/^http:\/\/\[::1\]:\d+$/);
  });

  it('sets helmet security headers, unless disabled', async () => {
    const secured = await make({ name: 'helmet-on', logger: false });
    const res = await secured.app.inject('/health/liveness');
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['content-security-policy']).toContain("default-src 'self'");
    expect(res.headers['x-powered-by']).toBeUndefined();

    const plain = await make({ name: 'helmet-off', logger: false, helmet: false });
    expect((await plain.app.inject('/health/liveness')).headers['x-content-type-options']).toBeUndefined();
  });

  it('rate-limits in process and answers 429 as JSON', async () => {
    const service = await make({ name: 'limit-test', logger: false, rateLimit: { max: 3, timeWindowMs: 60_000 } });
    expect(service.redis).toBeUndefined();
    service.app.get('/things', async () => ['a']);
    const statuses: number[] = [(await service.app.inject('/no-such-route')).statusCode];
    for (let i = 0; i < 3; i++) statuses.push((await service.app.inject('/things')).statusCode);
    expect(statuses).toEqual([404, 200, 200, 429]);
    const limited = await service.app.inject('/things');
    expect(limited.json()).toEqual({
      statusCode: 429,
      error: 'Too Many Requests',
      message: expect.stringMatching(/^Rate limit exceeded, retry in/),
    });
    expect(limited.headers['retry-after']).toBeDefined();
    expect(limited.headers['x-request-id']).toBeDefined();
    // Unknown URLs count against the same budget: probing for routes is not free.
    expect((await service.app.inject('/no-such-route')).statusCode).toBe(429);
    // Metrics and probes are never limited.
    expect((await service.app.inject('/metrics')).statusCode).toBe(200);
  });

  it('does not rate-limit when disabled', async () => {
    const service = await make({ name: 'nolimit-test', logger: false, rateLimit: false });
    service.app.get('/things', async () => ['a']);
    for (let i = 0; i < 120; i++) expect((await service.app.inject('/things')).statusCode).toBe(200);
  });

  it('reports an unreachable Redis in readiness without failing requests', async () => {
    const port = await closedPort();
    const logs = logCapture();
    const service = await make({
      name: 'redis-down-test',
      logger: { level: 'warn' },
      logStream: logs.stream,
      redisUrl: `redis://:sekrit@127.0.0.1:${port}`,
      rateLimit: { max: 5, timeWindowMs: 1_000 },
    });
    expect(service.redis).toBeDefined();
    service.app.get('/things', async () => ['a']);
    let readiness = await service.app.inject('/health/readiness');
    // Bounded wait for the first refused connection, whose cause readiness then names.
    for (let i = 0; i < 50 && !/ECONNREFUSED/.test(readiness.body); i++) {
      await new Promise((r) => setTimeout(r, 20));
      readiness = await service.app.inject('/health/readiness');
    }
    expect(readiness.statusCode).toBe(503);
    expect(readiness.json()).toMatchObject({
      failing: ['redis'],
      checks: {
        redis: {
          status: 'down',
          error: expect.stringMatching(/^redis is (connecting|reconnecting|close|end): connect ECONNREFUSED/),
        },
      },
    });
    // The rate-limit store fails open: a Redis outage must not take the API down with it.
    expect((await service.app.inject('/things')).statusCode).toBe(200);
    const warnings = logs.lines().filter((l) => l['msg'] === 'redis connection error');
    expect(warnings.length).toBeGreaterThan(0);
    expect(JSON.stringify(logs.lines())).not.toContain('sekrit');
  });

  it('uses LOG_LEVEL and custom pino options, and redacts credentials in logged headers', async () => {
    const logs = logCapture();
    process.env['LOG_LEVEL'] = 'debug';
    let service: Service;
    try {
      service = await make({ name: 'log-test', logStream: logs.stream, logger: true });
    } finally {
      delete process.env['LOG_LEVEL'];
    }
    service.app.get('/debug', async (request) => {
      request.log.debug({ headers: request.headers }, 'headers seen');
      request.log.debug({ upstream: { headers: { cookie: 'session=s3ss10n' } } }, 'nested headers seen');
      return {};
    });
    await service.app.inject({ url: '/debug', headers: { authorization: 'Bearer abc.def', 'x-api-key': 'key-123' } });
    const line = logs.lines().find((l) => l['msg'] === 'headers seen') as { headers: Record<string, string> };
    expect(line.headers['authorization']).toBe('[redacted]');
    expect(line.headers['x-api-key']).toBe('[redacted]');
    expect(line.headers['host']).toBe('localhost:80');
    expect(JSON.stringify(logs.lines())).not.toMatch(/abc\.def|key-123|s3ss10n/);
    expect(logs.lines()[0]).toMatchObject({
      service: 'log-test',
      version: '0.0.0-dev',
      time: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
    });
  });

  it('maps DRAIN_DELAY_MS and TRUSTED_PROXIES, and refuses a drain delay the shutdown bound cannot hold', async () => {
    const config = loadConfig(baseConfig, {
      SHUTDOWN_TIMEOUT_MS: '3s',
      DRAIN_DELAY_MS: '1s',
      TRUSTED_PROXIES: '10.0.0.7, 10.42.0.0/16',
    });
    expect(serviceOptionsFromConfig('drain-test', config)).toMatchObject({
      shutdownTimeoutMs: 3_000,
      drainDelayMs: 1_000,
      trustProxy: ['10.0.0.7', '10.42.0.0/16'],
    });
    await expect(createService({ name: 'drain-test', shutdownTimeoutMs: 3_000, drainDelayMs: 3_000 })).rejects.toThrow(
      'drainDelayMs (3000) must be shorter than shutdownTimeoutMs (3000), which bounds the delay and the drain together: raise SHUTDOWN_TIMEOUT_MS or lower DRAIN_DELAY_MS',
    );
  });

  it('builds service options from baseConfig values', async () => {
    const config = loadConfig(baseConfig, {
      PORT: '0',
      HOST: '127.0.0.1',
      APP_VERSION: '2.0.0',
      APP_REVISION: 'deadbeef',
      LOG_LEVEL: 'warn',
      RATE_LIMIT_MAX: '7',
      RATE_LIMIT_WINDOW_MS: '2s',
      SHUTDOWN_TIMEOUT_MS: '3000',
    });
    const options = serviceOptionsFromConfig('config-test', config);
    expect(options).toEqual({
      name: 'config-test',
      port: 0,
      host: '127.0.0.1',
      version: '2.0.0',
      revision: 'deadbeef',
      logger: { level: 'warn' },
      redisUrl: undefined,
      rateLimit: { max: 7, timeWindowMs: 2_000 },
      shutdownTimeoutMs: 3_000,
    });
    const service = await make({ ...options, logger: false });
    expect((await service.app.inject('/health')).json()).toMatchObject({
      service: 'config-test',
      version: '2.0.0',
      revision: 'deadbeef',
    });
  });
});
