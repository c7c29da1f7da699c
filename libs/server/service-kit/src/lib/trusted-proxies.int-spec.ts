import { createService, serviceOptionsFromConfig, type Service } from './service.js';
import { parseTrustedProxies } from './trusted-proxies.js';

/**
 * Real HTTP over 127.0.0.1: the rate limit keys on the client address, which X-Forwarded-For may
 * name only when the request comes from a configured trusted proxy (the web server).
 */
describe('rate limits behind a trusted proxy', () => {
  const services: Service[] = [];
  afterEach(async () => {
    await Promise.all(services.splice(0).map((s) => s.shutdown()));
  });

  async function start(trustedProxies: string | undefined): Promise<string> {
    const options = serviceOptionsFromConfig('trusted-proxy-int', {
      PORT: 0,
      HOST: '127.0.0.1',
      APP_VERSION: '1.0.0',
      APP_REVISION: 'test',
      LOG_LEVEL: 'silent',
      RATE_LIMIT_MAX: 2,
      RATE_LIMIT_WINDOW_MS: 60_000,
      SHUTDOWN_TIMEOUT_MS: 5_000,
      TRUSTED_PROXIES: trustedProxies,
    });
    const service = await createService({ ...options, logger: false });
    service.app.get('/things', async (request) => ({ ip: request.ip }));
    services.push(service);
    return service.listen();
  }

  const get = (url: string, forwardedFor?: string) =>
    fetch(`${url}/things`, { headers: forwardedFor ? { 'x-forwarded-for': forwardedFor } : {} });

  it('behind the trusted proxy, each browser has its own budget', async () => {
    // This test process plays the web server: it connects from 127.0.0.1.
    const url = await start('127.0.0.1');
    const first = await get(url, '203.0.113.10');
    expect(await first.json()).toEqual({ ip: '203.0.113.10' });
    expect((await get(url, '203.0.113.10')).status).toBe(200);
    expect((await get(url, '203.0.113.10')).status).toBe(429);
    // Another browser behind the same proxy is not limited by the first one's requests.
    expect((await get(url, '198.51.100.7')).status).toBe(200);
    expect((await get(url, '198.51.100.7')).status).toBe(200);
    expect((await get(url, '198.51.100.7')).status).toBe(429);
  });

  it('a direct client cannot escape its budget by sending X-Forwarded-For', async () => {
    // Only 10.0.0.7 is trusted; this client connects from 127.0.0.1.
    const url = await start('10.0.0.7');
    const first = await get(url, '203.0.113.1');
    expect(await first.json()).toEqual({ ip: '127.0.0.1' });
    expect((await get(url, '203.0.113.2')).status).toBe(200);
    expect((await get(url, '203.0.113.3')).status).toBe(429);
  });

  it('without TRUSTED_PROXIES the header is ignored', async () => {
    const url = await start(undefined);
    expect(await (await get(url, '203.0.113.1')).json()).toEqual({ ip: '127.0.0.1' });
    expect((await get(url, '203.0.113.2')).status).toBe(200);
    expect((await get(url, '203.0.113.3')).status).toBe(429);
  });
});

describe('parseTrustedProxies', () => {
  it('accepts IPs and CIDR ranges, comma separated', () => {
    expect(parseTrustedProxies(' 10.0.0.7, 10.42.0.0/16 ,::1,fd00::/8')).toEqual([
      '10.0.0.7',
      '10.42.0.0/16',
      '::1',
      'fd00::/8',
    ]);
    expect(parseTrustedProxies('')).toBeUndefined();
    expect(parseTrustedProxies(undefined)).toBeUndefined();
  });

  it('names each bad entry and the fix', () => {
    expect(() => parseTrustedProxies('10.0.0.7,web,10.0.0.0/33')).toThrow(
      /TRUSTED_PROXIES has "web", "10.0.0.0\/33", which are not an IP address or CIDR range: .*TRUSTED_PROXIES=10.0.0.7,10.42.0.0\/16/,
    );
  });
});
