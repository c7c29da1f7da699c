import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { baseUrlVariable, loadSmokeConfig, locateSmokeProject, resolveK6Binary, SmokeConfigError } from './config';
import { configFrom, tempWorkspace } from './testing/config';

function problemsOf(fn: () => unknown): string[] {
  try {
    fn();
  } catch (error) {
    if (error instanceof SmokeConfigError) return error.problems.map((p) => `${p.where}: ${p.message}`);
    throw error;
  }
  throw new Error('expected a SmokeConfigError');
}

describe('smoke config', () => {
  it('applies defaults', () => {
    const config = configFrom({ checks: [{ path: '/products' }] });
    expect(config.baseUrl).toBe('http://svc.test');
    expect(config.readiness).toEqual({
      path: '/health/readiness',
      timeoutMs: 60000,
      initialDelayMs: 250,
      maxDelayMs: 5000,
      factor: 2,
    });
    expect(config.versionGate).toMatchObject({
      path: '/health',
      consecutiveMatches: 1,
      required: false,
    });
    expect(Object.keys(config.versionGate.fields)).toEqual(['version', 'revision']);
    expect(config.checks[0]).toMatchObject({
      name: 'GET /products',
      method: 'GET',
      expectStatus: [200],
      count: 1,
      intervalMs: 1000,
      failureLimit: 0,
      consecutiveErrorLimit: 4,
    });
    expect(config.k6).toBeUndefined();
    expect(config.playwright).toBeUndefined();
  });

  it('lays the environment over the shared sections and appends its checks', () => {
    const config = configFrom({
      readiness: { timeoutMs: 1000, path: '/ready' },
      defaults: { count: 2, maxLatencyMs: 300 },
      checks: [{ name: 'a', path: '/a' }],
      k6: { script: 'k6/smoke.ts' },
      environments: {
        test: {
          baseUrl: 'https://svc.example.com/prefix/',
          readiness: { timeoutMs: 9000 },
          checks: [{ name: 'b', path: '/b', count: 7 }],
          k6: false,
        },
      },
    });
    expect(config.baseUrl).toBe('https://svc.example.com/prefix');
    expect(config.readiness).toMatchObject({ path: '/ready', timeoutMs: 9000 });
    expect(config.checks.map((c) => [c.name, c.count, c.maxLatencyMs])).toEqual([
      ['a', 2, 300],
      ['b', 7, 300],
    ]);
    expect(config.k6).toBeUndefined();
  });

  it('takes the base URL from --base-url, then SMOKE_<PROJECT>_URL, then smoke.json', () => {
    expect(baseUrlVariable('catalog')).toBe('SMOKE_CATALOG_URL');
    expect(baseUrlVariable('web-e2e')).toBe('SMOKE_WEB_E2E_URL');
    const env = { SMOKE_CATALOG_URL: 'http://127.0.0.1:3999' };
    expect(configFrom({}, { env })).toMatchObject({
      baseUrl: 'http://127.0.0.1:3999',
      baseUrlSource: 'SMOKE_CATALOG_URL',
    });
    expect(configFrom({}, { env, overrides: { baseUrl: 'http://127.0.0.1:3998' } })).toMatchObject({
      baseUrl: 'http://127.0.0.1:3998',
      baseUrlSource: '--base-url',
    });
    expect(configFrom({})).toMatchObject({
      baseUrlSource: 'apps/catalog/smoke.json environments.test.baseUrl',
    });
  });

  it('resolves ${env.NAME} in headers and bodies and marks those headers secret', () => {
    const config = configFrom(
      {
        checks: [
          {
            method: 'POST',
            path: '/p',
            headers: { 'X-Api-Key': '${env.API_KEY}', Accept: 'text/html' },
            body: { token: '${env.API_KEY}' },
          },
        ],
      },
      { env: { API_KEY: 's3cret-value' } },
    );
    expect(config.checks[0].headers).toEqual({
      'x-api-key': 's3cret-value',
      accept: 'text/html',
      'content-type': 'application/json',
    });
    expect(config.checks[0].secretHeaders).toEqual(['x-api-key']);
    expect(config.checks[0].body).toBe('{"token":"s3cret-value"}');
  });

  it('parses assertions of every kind', () => {
    const [check] = configFrom({
      checks: [
        {
          path: '/x',
          expectStatus: [200, 204],
          assertions: [
            { path: '$.a', equals: { b: 1 } },
            { path: '$.items[*].id', exists: true },
            { path: '$.v', matches: '^1\\.' },
            { header: 'Content-Type', matches: 'json' },
            { header: 'x-a', equals: 'b' },
            { header: 'x-b', exists: false },
          ],
        },
      ],
    }).checks;
    expect(check.expectStatus).toEqual([200, 204]);
    expect(check.assertions.map((a) => a.kind)).toEqual([
      'equals',
      'exists',
      'matches',
      'header-matches',
      'header-equals',
      'header-exists',
    ]);
  });

  it('reports every problem at once, each naming the field, the value and the fix', () => {
    const problems = problemsOf(() =>
      configFrom({
        readiness: { timeoutMs: -5 },
        versionGate: { fields: { version: '$.version[' } },
        defaults: { count: 0 },
        checks: [
          { path: 'products', method: 'FETCH' },
          {
            name: 'dup',
            path: '/a',
            assertions: [{ path: '$..x', exists: true }],
          },
          {
            name: 'dup',
            path: '/b',
            assertions: [{ path: '$.x', matches: '([' }, { path: '$.y' }, { path: '$.z', equals: 1, exists: true }],
          },
          { path: '/c', expectStatus: 700, intervalMs: -1, timeout: 5 },
        ],
        colour: 'blue',
      }),
    );
    expect(problems).toEqual([
      'apps/catalog/smoke.json colour: unknown key "colour": allowed here are readiness, versionGate, requestTimeoutMs, defaults, checks, k6, playwright, environments',
      'apps/catalog/smoke.json readiness.timeoutMs: -5 is negative: a timeout must be ≥ 0 ms (e.g. 60000)',
      expect.stringMatching(
        /^apps\/catalog\/smoke.json versionGate.fields.version: "\$\.version\[" is not a valid JSON path: unclosed "\[" at position 9: write it like/,
      ),
      'apps/catalog/smoke.json defaults.count: 0 is too small: it must be ≥ 1 (e.g. 1)',
      'apps/catalog/smoke.json checks[0].method: "FETCH" is not an HTTP method: use one of GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS',
      'apps/catalog/smoke.json checks[0].path: "products" is not a path: use a path from the base URL starting with "/", e.g. "/health"',
      expect.stringMatching(
        /checks\[1\]\.assertions\[0\]\.path: "\$\.\.x" is not a valid JSON path: recursive descent/,
      ),
      expect.stringMatching(/checks\[2\]\.assertions\[0\]\.matches: "\(\[" is not a valid regular expression/),
      expect.stringMatching(
        /checks\[2\]\.assertions\[1\]: needs exactly one of "equals", "exists", "matches" \(has none\)/,
      ),
      expect.stringMatching(
        /checks\[2\]\.assertions\[2\]: needs exactly one of "equals", "exists", "matches" \(has equals, exists\)/,
      ),
      'apps/catalog/smoke.json checks[2].name: "dup" is used by another check: give each check a unique name',
      expect.stringMatching(/checks\[3\]\.timeout: unknown key "timeout"/),
      'apps/catalog/smoke.json checks[3].expectStatus: 700 is not an HTTP status: use an integer 100-599 or a list of them',
      'apps/catalog/smoke.json checks[3].intervalMs: -1 is negative: it must be ≥ 0 ms (e.g. 1000)',
    ]);
  });

  it.each([
    ['not a URL', 'not a url', '"not a url" is not a valid URL'],
    ['ftp', 'ftp://svc.test', 'uses ftp, not http or https'],
    ['query', 'http://svc.test/?a=1', 'has a query or fragment'],
    ['credentials', 'http://user:pw@svc.test', 'embeds credentials'],
  ])('rejects a base URL with %s', (_label, baseUrl, message) => {
    const problems = problemsOf(() => configFrom({ environments: { test: { baseUrl } } }));
    expect(problems).toEqual([expect.stringContaining(message)]);
    expect(problems[0]).not.toContain('pw@');
  });

  it('rejects a bad SMOKE_<PROJECT>_URL naming the variable, not the file', () => {
    expect(problemsOf(() => configFrom({}, { env: { SMOKE_CATALOG_URL: 'localhost:3101' } }))).toEqual([
      'SMOKE_CATALOG_URL: "localhost:3101" uses localhost, not http or https: set SMOKE_CATALOG_URL to an absolute http(s) URL like http://127.0.0.1:3101',
    ]);
  });

  it('rejects negative timeouts given as options', () => {
    expect(problemsOf(() => configFrom({}, { overrides: { readinessTimeoutMs: -1, expectTimeoutMs: -20 } }))).toEqual([
      '--readiness-timeout-ms: -1 is negative: a timeout must be ≥ 0 ms (e.g. 60000)',
      '--expect-timeout-ms: -20 is negative: a timeout must be ≥ 0 ms (e.g. 60000)',
    ]);
  });

  it('names the environments when the one asked for is missing, and requires a base URL', () => {
    expect(problemsOf(() => configFrom({ environments: { local: {}, staging: {} } }))).toEqual([
      'apps/catalog/smoke.json environments: has no "test" environment (configured: local, staging): add it or pick one of those',
    ]);
    expect(problemsOf(() => configFrom({ environments: { test: {} } }))).toEqual([
      'apps/catalog/smoke.json environments.test.baseUrl: is missing: set it, export SMOKE_CATALOG_URL, or pass --base-url',
    ]);
  });

  it('fails when a k6 check is configured and no k6 binary exists, unless k6 is skipped', () => {
    const ws = tempWorkspace();
    try {
      ws.write('apps/catalog/k6/smoke.ts', 'export default function () {}');
      const raw = { k6: { script: 'k6/smoke.ts' } };
      const options = {
        workspaceRoot: ws.root,
        configFile: join(ws.root, 'apps/catalog/smoke.json'),
        findK6: () => undefined,
      };
      expect(problemsOf(() => configFrom(raw, options))).toEqual([
        expect.stringMatching(
          /k6: a k6 script is configured but no k6 binary was found \(K6_BIN is unset, no k6 on PATH, none in ~\/go\/bin\): run "bash tools\/scripts\/install-k6.sh" or set K6_BIN, or pass --skip-k6$/,
        ),
      ]);
      expect(configFrom(raw, { ...options, overrides: { skipK6: true } }).k6).toBeUndefined();
      expect(configFrom(raw, { ...options, findK6: () => '/opt/k6' }).k6).toMatchObject({
        binary: '/opt/k6',
        script: join(ws.root, 'apps/catalog/k6/smoke.ts'),
        timeoutMs: 300000,
      });
      expect(
        problemsOf(() => configFrom({ k6: { script: 'k6/missing.ts' } }, { ...options, findK6: () => '/opt/k6' })),
      ).toEqual([expect.stringContaining('k6.script: "k6/missing.ts" does not exist')]);
    } finally {
      ws.cleanup();
    }
  });

  it('finds k6 from K6_BIN, then PATH, then ~/go/bin', () => {
    const ws = tempWorkspace();
    try {
      const exe = (path: string): string => {
        const file = ws.write(path, '#!/bin/sh\n');
        require('node:fs').chmodSync(file, 0o755);
        return file;
      };
      const fromBin = exe('bin-a/k6');
      const fromPath = exe('bin-b/k6');
      const fromGo = exe('home/go/bin/k6');
      expect(
        resolveK6Binary({
          K6_BIN: fromBin,
          PATH: join(ws.root, 'bin-b'),
          HOME: join(ws.root, 'home'),
        }),
      ).toBe(fromBin);
      expect(
        resolveK6Binary({
          K6_BIN: join(ws.root, 'nope'),
          PATH: join(ws.root, 'bin-b'),
        }),
      ).toBeUndefined();
      expect(
        resolveK6Binary({
          PATH: `/nonexistent:${join(ws.root, 'bin-b')}`,
          HOME: join(ws.root, 'home'),
        }),
      ).toBe(fromPath);
      expect(resolveK6Binary({ PATH: '/nonexistent', HOME: join(ws.root, 'home') })).toBe(fromGo);
      expect(
        resolveK6Binary({
          PATH: '/nonexistent',
          HOME: join(ws.root, 'nohome'),
        }),
      ).toBeUndefined();
    } finally {
      ws.cleanup();
    }
  });

  it('checks the Playwright project directory', () => {
    const ws = tempWorkspace();
    try {
      ws.write('apps/web-e2e/playwright.config.mts', 'export default {}');
      const options = { workspaceRoot: ws.root };
      expect(configFrom({ playwright: { dir: '../web-e2e' } }, options).playwright).toMatchObject({
        dir: join(ws.root, 'apps/web-e2e'),
        grep: '@smoke',
      });
      expect(problemsOf(() => configFrom({ playwright: { dir: '../nowhere' } }, options))).toEqual([
        expect.stringContaining('has no playwright.config.*'),
      ]);
      expect(
        problemsOf(() =>
          configFrom({ playwright: { dir: '../web-e2e' } }, { ...options, findPlaywrightCli: () => undefined }),
        ),
      ).toEqual([expect.stringContaining('@playwright/test cannot be resolved')]);
    } finally {
      ws.cleanup();
    }
  });

  it('fails on a missing ${env.NAME} without printing other values', () => {
    expect(
      problemsOf(() =>
        configFrom({
          checks: [{ path: '/a', headers: { authorization: 'Bearer ${env.TOKEN}' } }],
        }),
      ),
    ).toEqual([
      'apps/catalog/smoke.json checks[0].headers.authorization: uses ${env.TOKEN}, which is not set: export TOKEN (its value is never printed) or remove the reference',
    ]);
  });

  it('loads from disk and reports unreadable or invalid JSON files', () => {
    const ws = tempWorkspace();
    try {
      const base = {
        workspaceRoot: ws.root,
        project: 'catalog',
        projectRoot: ws.projectRoot,
        environment: 'local',
        env: {},
      };
      expect(problemsOf(() => loadSmokeConfig(base))).toEqual([
        expect.stringMatching(/^apps\/catalog\/smoke.json: cannot read it \(ENOENT\)/),
      ]);
      writeFileSync(join(ws.root, 'apps/catalog/smoke.json'), '{ "environments": ');
      expect(problemsOf(() => loadSmokeConfig(base))).toEqual([
        expect.stringMatching(/^apps\/catalog\/smoke.json: is not valid JSON/),
      ]);
      ws.write('apps/catalog/smoke.json', {
        environments: { local: { baseUrl: 'http://127.0.0.1:3101' } },
      });
      expect(loadSmokeConfig(base)).toMatchObject({
        project: 'catalog',
        environment: 'local',
        baseUrl: 'http://127.0.0.1:3101',
      });
    } finally {
      ws.cleanup();
    }
  });

  it('rejects unknown projects, listing those with a smoke.json', () => {
    const ws = tempWorkspace();
    try {
      ws.write('apps/catalog/smoke.json', {});
      const projects = {
        catalog: { root: 'apps/catalog' },
        orders: { root: 'apps/orders' },
      };
      expect(problemsOf(() => locateSmokeProject('catalgo', projects, ws.root))).toEqual([
        'project: unknown project "catalgo". Projects with a smoke.json: catalog',
      ]);
      expect(problemsOf(() => locateSmokeProject('orders', projects, ws.root))).toEqual([
        expect.stringContaining('project "orders" has no apps/orders/smoke.json'),
      ]);
      expect(locateSmokeProject('catalog', projects, ws.root)).toMatchObject({
        projectRoot: 'apps/catalog',
      });
    } finally {
      ws.cleanup();
    }
  });

  it('loads the shipped smoke.json files of catalog, orders and web', () => {
    const root = join(__dirname, '../../../../..');
    for (const [project, port] of [
      ['catalog', 3101],
      ['orders', 3102],
      ['web', 4300],
    ] as const) {
      const config = loadSmokeConfig({
        workspaceRoot: root,
        project,
        projectRoot: `apps/${project}`,
        environment: 'local',
        env: {},
        overrides: { skipK6: true },
      });
      expect(config.baseUrl).toBe(`http://127.0.0.1:${port}`);
      expect(config.checks.length).toBeGreaterThan(2);
      const production = loadSmokeConfig({
        workspaceRoot: root,
        project,
        projectRoot: `apps/${project}`,
        environment: 'production',
        env: {},
        overrides: { skipK6: true, skipPlaywright: true },
      });
      expect(production.versionGate.required).toBe(true);
    }
  });
});
