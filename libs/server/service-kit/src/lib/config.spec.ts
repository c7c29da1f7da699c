import { ConfigError, baseConfig, defineConfig, loadConfig, redactCredentials } from './config.js';

function problemsOf(fn: () => unknown): ConfigError['problems'] {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).problems;
  }
  throw new Error('expected a ConfigError');
}

describe('loadConfig', () => {
  const spec = defineConfig({
    NAME: { type: 'string', required: true, description: 'display name' },
    HOME_URL: { type: 'url', required: true },
    WORKERS: { type: 'int', default: 4 },
    PORT: { type: 'port', default: 3101 },
    VERBOSE: { type: 'boolean', default: false },
    TIMEOUT_MS: { type: 'duration-ms', default: '5s' },
    MODE: { type: 'string', default: 'fast', oneOf: ['fast', 'safe'] },
    OPTIONAL_URL: { type: 'url' },
  });

  it('parses every type and applies defaults for unset or empty variables', () => {
    const config = loadConfig(spec, {
      NAME: 'catalog',
      HOME_URL: 'http://127.0.0.1:3101/base',
      WORKERS: '-2',
      PORT: '',
      VERBOSE: 'YES',
      TIMEOUT_MS: '250',
      MODE: 'safe',
    });
    expect(config).toEqual({
      NAME: 'catalog',
      HOME_URL: 'http://127.0.0.1:3101/base',
      WORKERS: -2,
      PORT: 3101,
      VERBOSE: true,
      TIMEOUT_MS: 250,
      MODE: 'safe',
      OPTIONAL_URL: undefined,
    });
    // Compile-time: required/defaulted variables are not optional, others are.
    const port: number = config.PORT;
    const optional: string | undefined = config.OPTIONAL_URL;
    expect([port, optional]).toEqual([3101, undefined]);
  });

  it.each([
    ['true', true],
    ['1', true],
    ['on', true],
    ['False', false],
    ['0', false],
    ['no', false],
    ['off', false],
  ])('reads boolean %s as %s', (raw, expected) => {
    expect(loadConfig({ FLAG: { type: 'boolean', required: true } }, { FLAG: raw }).FLAG).toBe(expected);
  });

  it.each([
    ['250', 250],
    ['250ms', 250],
    ['5s', 5_000],
    ['2m', 120_000],
    ['1h', 3_600_000],
  ])('reads duration %s as %i ms', (raw, expected) => {
    expect(loadConfig({ D: { type: 'duration-ms', required: true } }, { D: raw }).D).toBe(expected);
  });

  it('accepts the port range bounds', () => {
    const ports = defineConfig({ A: { type: 'port', required: true }, B: { type: 'port', required: true } });
    expect(loadConfig(ports, { A: '0', B: '65535' })).toEqual({ A: 0, B: 65535 });
  });

  it('reports every missing and invalid variable in one ConfigError', () => {
    const problems = problemsOf(() =>
      loadConfig(spec, {
        HOME_URL: 'localhost:3101',
        WORKERS: '4.5',
        PORT: '70000',
        VERBOSE: 'maybe',
        TIMEOUT_MS: '5 seconds',
        MODE: 'turbo',
        OPTIONAL_URL: 'not a url',
      }),
    );
    expect(problems.map((p) => p.variable)).toEqual([
      'NAME',
      'HOME_URL',
      'WORKERS',
      'PORT',
      'VERBOSE',
      'TIMEOUT_MS',
      'MODE',
      'OPTIONAL_URL',
    ]);
    const byName = Object.fromEntries(problems.map((p) => [p.variable, p.message]));
    expect(byName['NAME']).toMatch(/is required but not set; set NAME \(display name\) to a non-empty string/);
    expect(byName['HOME_URL']).toMatch(/"localhost:3101" is not a valid absolute URL; set HOME_URL to an absolute URL/);
    expect(byName['WORKERS']).toMatch(/"4.5" is not an integer; set WORKERS to an integer/);
    expect(byName['PORT']).toMatch(/"70000" is not a port \(0-65535\)/);
    expect(byName['VERBOSE']).toMatch(/"maybe" is not a boolean; set VERBOSE to one of true, false/);
    expect(byName['TIMEOUT_MS']).toMatch(/"5 seconds" is not a duration; set TIMEOUT_MS to milliseconds/);
    expect(byName['MODE']).toMatch(/"turbo" is not one of fast, safe; set MODE to one of fast, safe/);
    expect(byName['OPTIONAL_URL']).toMatch(/"not a url" is not a valid absolute URL/);
  });

  it('names the count and every variable in the error message', () => {
    try {
      loadConfig(spec, {});
      throw new Error('expected a ConfigError');
    } catch (error) {
      const message = (error as Error).message;
      expect(message).toMatch(/^Invalid configuration: 2 problems in environment variables/);
      expect(message).toContain('  - NAME: is required but not set');
      expect(message).toContain('  - HOME_URL: is required but not set');
      expect((error as Error).name).toBe('ConfigError');
    }
    const single = new ConfigError([{ variable: 'X', message: 'bad' }]);
    expect(single.message).toMatch(/^Invalid configuration: 1 problem in/);
  });

  it('never prints the value of a secret variable', () => {
    const secretSpec = defineConfig({
      API_PORT: { type: 'port', required: true, secret: true },
      TOKEN_URL: { type: 'url', required: true, secret: true },
    });
    let message = '';
    try {
      loadConfig(secretSpec, { API_PORT: 'hunter2-super-secret', TOKEN_URL: 's3cr3t-token-value' });
    } catch (error) {
      message = (error as ConfigError).message + JSON.stringify((error as ConfigError).problems);
    }
    expect(message).toContain('API_PORT: (value hidden: secret) is not an integer');
    expect(message).toContain('TOKEN_URL: (value hidden: secret) is not a valid absolute URL');
    expect(message).not.toContain('hunter2');
    expect(message).not.toContain('s3cr3t');
  });

  it('hides passwords in echoed URLs even when the variable is not marked secret', () => {
    const problems = problemsOf(() =>
      loadConfig({ DB: { type: 'url', required: true } }, { DB: 'postgres://app:pa55word@db:5432 /x' }),
    );
    expect(problems[0].message).toContain('postgres://app:***@db');
    expect(problems[0].message).not.toContain('pa55word');
  });

  it('reports a default that does not parse as a spec problem', () => {
    const problems = problemsOf(() => loadConfig({ N: { type: 'int', default: 'many' } }, {}));
    expect(problems).toEqual([
      { variable: 'N', message: expect.stringMatching(/^default value is not an integer; fix the config spec/) },
    ]);
  });

  it('rejects integers beyond the safe range', () => {
    const problems = problemsOf(() =>
      loadConfig(
        { BIG: { type: 'int', required: true }, LONG: { type: 'duration-ms', required: true } },
        { BIG: '9007199254740993', LONG: '9007199254740h' },
      ),
    );
    expect(problems.map((p) => p.message)).toEqual([
      expect.stringContaining('is out of the safe integer range'),
      expect.stringContaining('is out of the safe integer range'),
    ]);
  });

  it('reports an unknown type in the spec instead of crashing', () => {
    const problems = problemsOf(() => loadConfig({ ODD: { type: 'float' as never, required: true } }, { ODD: '1.5' }));
    expect(problems[0].message).toContain('has an unknown type in the spec (float)');
  });

  it('reads process.env by default', () => {
    process.env['SERVICE_KIT_TEST_VAR'] = '42';
    try {
      expect(loadConfig({ SERVICE_KIT_TEST_VAR: { type: 'int', required: true } }).SERVICE_KIT_TEST_VAR).toBe(42);
    } finally {
      delete process.env['SERVICE_KIT_TEST_VAR'];
    }
  });
});

describe('baseConfig', () => {
  it('has working defaults for every variable', () => {
    expect(loadConfig(baseConfig, {})).toEqual({
      PORT: 3000,
      HOST: '0.0.0.0',
      APP_VERSION: '0.0.0-dev',
      APP_REVISION: 'unknown',
      LOG_LEVEL: 'info',
      REDIS_URL: undefined,
      RATE_LIMIT_MAX: 100,
      RATE_LIMIT_WINDOW_MS: 60_000,
      TRUSTED_PROXIES: undefined,
      SHUTDOWN_TIMEOUT_MS: 10_000,
      DRAIN_DELAY_MS: 0,
    });
  });

  it('can be extended and overridden by a service', () => {
    const spec = defineConfig({
      ...baseConfig,
      PORT: { type: 'port', default: 3101 },
      API_KEY: { type: 'string', required: true, secret: true },
    });
    const config = loadConfig(spec, { API_KEY: 'k', REDIS_URL: 'redis://:pw@127.0.0.1:6379', LOG_LEVEL: 'debug' });
    expect(config.PORT).toBe(3101);
    expect(config.REDIS_URL).toBe('redis://:pw@127.0.0.1:6379');
    expect(config.LOG_LEVEL).toBe('debug');
  });

  it('rejects an unknown log level and hides the REDIS_URL value', () => {
    const problems = problemsOf(() => loadConfig(baseConfig, { LOG_LEVEL: 'loud', REDIS_URL: 'redis//:topsecret@x' }));
    expect(problems.map((p) => p.variable)).toEqual(['LOG_LEVEL', 'REDIS_URL']);
    expect(JSON.stringify(problems)).not.toContain('topsecret');
  });
});

describe('redactCredentials', () => {
  it('masks the password of any scheme://user:password@host and leaves other text alone', () => {
    expect(redactCredentials('connect redis://:pw@127.0.0.1:6379 and postgres://u:p@h/db')).toBe(
      'connect redis://:***@127.0.0.1:6379 and postgres://u:***@h/db',
    );
    expect(redactCredentials('http://127.0.0.1:3101/x')).toBe('http://127.0.0.1:3101/x');
  });
});
