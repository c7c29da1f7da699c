import { ConfigError } from '@slipway/service-kit';
import { CATALOG_DEFAULT_PORT, loadCatalogConfig } from './config.js';

describe('loadCatalogConfig', () => {
  it('runs on a bare machine: every variable has a default or is optional', () => {
    const config = loadCatalogConfig({});
    expect(config.PORT).toBe(CATALOG_DEFAULT_PORT);
    expect(config.DATABASE_URL).toBeUndefined();
    expect(config.PGLITE_DATA_DIR).toBeUndefined();
    expect(config.SEED_SAMPLE_DATA).toBe(true);
    expect(config.DATABASE_POOL_MAX).toBe(10);
    expect(config.API_KEY).toBeUndefined();
  });

  it('reads every variable', () => {
    const config = loadCatalogConfig({
      PORT: '3310',
      DATABASE_URL: 'postgres://app:pw@db:5432/catalog',
      DATABASE_POOL_MAX: '4',
      API_KEY: 'k'.repeat(16),
      JWT_SECRET: 's'.repeat(32),
      SEED_SAMPLE_DATA: 'false',
      APP_VERSION: '1.2.3',
    });
    expect(config).toMatchObject({
      PORT: 3310,
      DATABASE_URL: 'postgres://app:pw@db:5432/catalog',
      DATABASE_POOL_MAX: 4,
      SEED_SAMPLE_DATA: false,
      APP_VERSION: '1.2.3',
    });
  });

  it('lists every problem in one error, with fixes, and never echoes a secret', () => {
    let error: unknown;
    try {
      loadCatalogConfig({
        PORT: 'eighty',
        DATABASE_URL: 'mysql://app:hunter2@db:3306/catalog',
        PGLITE_DATA_DIR: '/var/lib/catalog',
        DATABASE_POOL_MAX: '0',
        API_KEY: 'short-key-9',
        JWT_SECRET: 'short-secret-7',
        SEED_SAMPLE_DATA: 'maybe',
      });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const { problems, message } = error as ConfigError;
    expect(problems.map((p) => p.variable).sort()).toEqual([
      'API_KEY',
      'DATABASE_POOL_MAX',
      'DATABASE_URL',
      'JWT_SECRET',
      'PGLITE_DATA_DIR',
      'PORT',
      'SEED_SAMPLE_DATA',
    ]);
    expect(message).toContain('is not a postgres:// URL; set it to e.g. postgres://');
    expect(message).toContain('only applies to the embedded PGlite; unset one of them');
    expect(message).toContain('0 is below 1');
    expect(message).toContain('openssl rand -hex 24');
    expect(message).toContain('openssl rand -hex 32');
    expect(message).not.toMatch(/hunter2|short-key-9|short-secret-7/);
  });

  it('rethrows errors that are not configuration problems', () => {
    const env = new Proxy({} as NodeJS.ProcessEnv, {
      get: () => {
        throw new Error('environment unreadable');
      },
    });
    expect(() => loadCatalogConfig(env)).toThrow('environment unreadable');
  });
});
