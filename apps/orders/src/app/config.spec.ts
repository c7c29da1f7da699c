import { ConfigError } from '@slipway/service-kit';
import { loadOrdersConfig, ORDERS_DEFAULT_PORT } from './config.js';

describe('loadOrdersConfig', () => {
  it('runs on a bare machine with documented defaults', () => {
    const config = loadOrdersConfig({});
    expect(config).toMatchObject({
      PORT: ORDERS_DEFAULT_PORT,
      CATALOG_URL: 'http://127.0.0.1:3101',
      CATALOG_TIMEOUT_MS: 2_000,
      CATALOG_RETRIES: 2,
      IDEMPOTENCY_TTL_MS: 24 * 3_600_000,
      IDEMPOTENCY_LOCK_MS: 30_000,
      IDEMPOTENCY_WAIT_MS: 10_000,
      DATABASE_POOL_MAX: 10,
    });
    expect(config.DATABASE_URL).toBeUndefined();
    expect(config.REDIS_URL).toBeUndefined();
  });

  it('lists every problem in one error with the fix, never echoing secrets', () => {
    let error: unknown;
    try {
      loadOrdersConfig({
        PORT: '99999',
        DATABASE_URL: 'mysql://app:hunter2@db/orders',
        PGLITE_DATA_DIR: '/data',
        CATALOG_URL: 'ftp://catalog',
        CATALOG_RETRIES: '9',
        IDEMPOTENCY_WAIT_MS: '1m',
        IDEMPOTENCY_LOCK_MS: '500ms',
        REDIS_URL: 'not a url :secretpw',
      });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const { problems, message } = error as ConfigError;
    expect(problems.map((p) => p.variable).sort()).toEqual([
      'CATALOG_URL',
      'DATABASE_URL',
      'PGLITE_DATA_DIR',
      'PORT',
      'REDIS_URL',
    ]);
    expect(message).not.toMatch(/hunter2|secretpw/);
    expect(message).toContain('set it to e.g. http://127.0.0.1:3101');
  });

  it('checks the numbers against each other once they parse', () => {
    let error: unknown;
    try {
      loadOrdersConfig({
        DATABASE_POOL_MAX: '0',
        CATALOG_RETRIES: '9',
        CATALOG_TIMEOUT_MS: '0',
        IDEMPOTENCY_WAIT_MS: '1m',
        IDEMPOTENCY_LOCK_MS: '500ms',
      });
    } catch (e) {
      error = e;
    }
    const messages = (error as ConfigError).problems.map((p) => `${p.variable}: ${p.message}`);
    expect(messages).toEqual([
      'DATABASE_POOL_MAX: 0 is below 1; set it to 1 or more (default 10)',
      'CATALOG_RETRIES: 9 is outside 0-5; set it to e.g. 2',
      'CATALOG_TIMEOUT_MS: must be at least 1 ms; set it to e.g. 2s',
      'IDEMPOTENCY_WAIT_MS: 60000 ms is longer than IDEMPOTENCY_LOCK_MS (500 ms); a waiting request would outlive the lease it waits for, set it below',
      'IDEMPOTENCY_LOCK_MS: 500 ms is below 1s; a slow order would lose its key, set it to e.g. 30s',
    ]);
  });

  it('rethrows errors that are not configuration problems', () => {
    const env = new Proxy({} as NodeJS.ProcessEnv, {
      get: () => {
        throw new Error('environment unreadable');
      },
    });
    expect(() => loadOrdersConfig(env)).toThrow('environment unreadable');
  });
});
