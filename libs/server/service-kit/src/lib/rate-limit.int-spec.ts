import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { createService, type Service } from './service.js';

const REDIS_URL = process.env['REDIS_URL'] || 'redis://127.0.0.1:6379';

async function keysWithPrefix(redis: Redis, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  let cursor = '0';
  // SCAN is bounded by the cursor returning to 0; the extra guard keeps a broken server from looping.
  for (let round = 0; round < 1_000; round++) {
    const [next, batch] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 100);
    keys.push(...batch);
    cursor = next;
    if (cursor === '0') break;
  }
  return keys;
}

describe('rate limiting against the real Redis', () => {
  let admin: Redis;
  const prefixes: string[] = [];
  const services: Service[] = [];

  async function start(opts: { prefix?: string; max: number; timeWindowMs: number; redis: boolean }): Promise<string> {
    const service = await createService({
      name: 'rate-limit-int',
      port: 0,
      logger: false,
      redisUrl: opts.redis ? REDIS_URL : undefined,
      rateLimit: { max: opts.max, timeWindowMs: opts.timeWindowMs, keyPrefix: opts.prefix },
    });
    service.app.get('/things', async () => ['thing']);
    services.push(service);
    const url = await service.listen();
    if (opts.redis) {
      // Bounded wait for the connection, so the first request is counted in Redis.
      for (let i = 0; i < 100 && service.redis?.status !== 'ready'; i++) await new Promise((r) => setTimeout(r, 20));
      expect(service.redis?.status).toBe('ready');
    }
    return url;
  }

  function uniquePrefix(): string {
    const prefix = `service-kit-test:${randomUUID()}:`;
    prefixes.push(prefix);
    return prefix;
  }

  beforeAll(async () => {
    admin = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
    await admin.ping();
  });

  afterEach(async () => {
    await Promise.all(services.splice(0).map((s) => s.shutdown()));
  });

  afterAll(async () => {
    for (const prefix of prefixes) {
      const keys = await keysWithPrefix(admin, prefix);
      if (keys.length > 0) await admin.del(...keys);
    }
    await admin.quit();
  });

  it('answers 429 once the shared count in Redis passes max, across replicas', async () => {
    const prefix = uniquePrefix();
    const replicaA = await start({ prefix, max: 3, timeWindowMs: 60_000, redis: true });
    const replicaB = await start({ prefix, max: 3, timeWindowMs: 60_000, redis: true });

    const statuses = [];
    for (const url of [replicaA, replicaB, replicaA, replicaB, replicaA])
      statuses.push((await fetch(`${url}/things`)).status);
    // One client, two replicas, one budget: the store is shared, not per process.
    expect(statuses).toEqual([200, 200, 200, 429, 429]);

    const limited = await fetch(`${replicaB}/things`);
    expect(limited.status).toBe(429);
    expect(await limited.json()).toEqual({
      statusCode: 429,
      error: 'Too Many Requests',
      message: expect.stringMatching(/^Rate limit exceeded/),
    });
    expect(limited.headers.get('x-ratelimit-limit')).toBe('3');
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);

    const keys = await keysWithPrefix(admin, prefix);
    expect(keys).toHaveLength(1);
    expect(Number(await admin.get(keys[0]))).toBe(6);
    expect(await admin.pttl(keys[0])).toBeGreaterThan(50_000);
  });

  it('lets requests through again once the window has passed', async () => {
    const url = await start({ prefix: uniquePrefix(), max: 2, timeWindowMs: 700, redis: true });
    const first = [];
    for (let i = 0; i < 3; i++) first.push((await fetch(`${url}/things`)).status);
    expect(first).toEqual([200, 200, 429]);
    await new Promise((r) => setTimeout(r, 900));
    expect((await fetch(`${url}/things`)).status).toBe(200);
  });

  it('keeps probes and metrics outside the limit and reports Redis in readiness', async () => {
    const url = await start({ prefix: uniquePrefix(), max: 1, timeWindowMs: 60_000, redis: true });
    expect((await fetch(`${url}/things`)).status).toBe(200);
    expect((await fetch(`${url}/things`)).status).toBe(429);
    for (let i = 0; i < 3; i++) {
      const readiness = await fetch(`${url}/health/readiness`);
      expect(readiness.status).toBe(200);
      expect(await readiness.json()).toMatchObject({ status: 'ready', checks: { redis: { status: 'up' } } });
      expect((await fetch(`${url}/metrics`)).status).toBe(200);
    }
  });

  it('uses an in-process store per replica when Redis is not configured', async () => {
    const prefix = uniquePrefix();
    const replicaA = await start({ prefix, max: 2, timeWindowMs: 60_000, redis: false });
    const replicaB = await start({ prefix, max: 2, timeWindowMs: 60_000, redis: false });
    const statusesA = [];
    for (let i = 0; i < 3; i++) statusesA.push((await fetch(`${replicaA}/things`)).status);
    expect(statusesA).toEqual([200, 200, 429]);
    // Replica B counts on its own: nothing is shared without Redis.
    expect((await fetch(`${replicaB}/things`)).status).toBe(200);
    expect(await keysWithPrefix(admin, prefix)).toEqual([]);
    expect(services.map((s) => s.redis)).toEqual([undefined, undefined]);
  });
});
