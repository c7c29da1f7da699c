import { accessSync, constants, existsSync, readFileSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, join, relative, resolve } from 'node:path';
import { JsonPathSyntaxError, parseJsonPath, type JsonPath } from './json-path';
import type {
  AnalysisLimits,
  Assertion,
  BackoffOptions,
  ResolvedCheck,
  ResolvedK6,
  ResolvedPlaywright,
  ResolvedReadiness,
  ResolvedSmokeConfig,
  ResolvedVersionGate,
} from './types';

/**
 * smoke.json: one file per deployable project, beside its package.json. Shared sections at the top
 * level; `environments.<name>` gives the base URL and may override any section (objects are merged
 * key by key, `k6: false` / `playwright: false` switch a stage off, `checks` are appended).
 * Every problem in the file is reported at once, each naming the field, the bad value and the fix,
 * before a single request is sent.
 */
export const SMOKE_CONFIG_FILE = 'smoke.json';

export const DEFAULTS = {
  requestTimeoutMs: 5_000,
  readiness: {
    path: '/health/readiness',
    timeoutMs: 60_000,
    initialDelayMs: 250,
    maxDelayMs: 5_000,
    factor: 2,
  },
  versionGate: {
    path: '/health',
    fields: { version: '$.version', revision: '$.revision' },
    timeoutMs: 60_000,
    initialDelayMs: 250,
    maxDelayMs: 5_000,
    factor: 2,
    consecutiveMatches: 1,
    required: false,
  },
  // Argo Rollouts' default consecutiveErrorLimit is 4; failureLimit 0.
  check: {
    method: 'GET',
    count: 1,
    intervalMs: 1_000,
    failureLimit: 0,
    consecutiveErrorLimit: 4,
    expectStatus: [200],
  },
  k6: { timeoutMs: 300_000 },
  playwright: { grep: '@smoke', timeoutMs: 600_000 },
} as const;

const HTTP_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'];
const PLAYWRIGHT_CONFIGS = [
  'playwright.config.ts',
  'playwright.config.mts',
  'playwright.config.cts',
  'playwright.config.js',
  'playwright.config.mjs',
  'playwright.config.cjs',
];
const ENV_REFERENCE = /\$\{env\.([A-Za-z_][A-Za-z0-9_]*)\}/g;

export interface ConfigProblem {
  /** Where: "apps/catalog/smoke.json checks[1].assertions[0].path", or an option name. */
  where: string;
  message: string;
}

export class SmokeConfigError extends Error {
  constructor(readonly problems: ConfigProblem[]) {
    super(
      `Smoke configuration is invalid (${problems.length} problem${problems.length === 1 ? '' : 's'}); nothing was requested:\n` +
        problems.map((p) => `  - ${p.where}: ${p.message}`).join('\n'),
    );
    this.name = 'SmokeConfigError';
  }
}

export interface SmokeOverrides {
  /** Wins over SMOKE_<PROJECT>_URL and smoke.json. */
  baseUrl?: string;
  readinessTimeoutMs?: number;
  expectTimeoutMs?: number;
  skipK6?: boolean;
  skipPlaywright?: boolean;
}

export interface LoadSmokeConfigOptions {
  workspaceRoot: string;
  project: string;
  /** Project root relative to the workspace (apps/catalog). */
  projectRoot: string;
  environment: string;
  /** Defaults to <projectRoot>/smoke.json; relative paths are from the workspace root. */
  configFile?: string;
  /** For SMOKE_<PROJECT>_URL, ${env.NAME} references, K6_BIN and PATH. Defaults to process.env. */
  env?: NodeJS.ProcessEnv;
  overrides?: SmokeOverrides;
  /** Swappable for tests; defaults to {@link resolveK6Binary}. */
  findK6?: (env: NodeJS.ProcessEnv) => string | undefined;
  /** Swappable for tests; defaults to resolving @playwright/test from the Playwright project. */
  findPlaywrightCli?: (dir: string) => string | undefined;
}

/** SMOKE_CATALOG_URL for "catalog", SMOKE_WEB_E2E_URL for "web-e2e". */
export function baseUrlVariable(project: string): string {
  return `SMOKE_${project.toUpperCase().replace(/[^A-Z0-9]+/g, '_')}_URL`;
}

/**
 * Finds the project a smoke run names. Unknown names fail with the list of projects that have a
 * smoke.json, so a typo in a deploy config or on the command line is caught before anything runs.
 */
export function locateSmokeProject(
  project: string,
  projects: Record<string, { root: string }>,
  workspaceRoot: string,
): { project: string; projectRoot: string; configFile: string } {
  const withConfig = Object.entries(projects)
    .filter(([, p]) => existsSync(join(workspaceRoot, p.root, SMOKE_CONFIG_FILE)))
    .map(([name]) => name)
    .sort();
  const known = projects[project];
  if (!known) {
    throw new SmokeConfigError([
      {
        where: 'project',
        message: `unknown project "${project}". Projects with a ${SMOKE_CONFIG_FILE}: ${withConfig.join(', ') || '(none)'}`,
      },
    ]);
  }
  const configFile = join(workspaceRoot, known.root, SMOKE_CONFIG_FILE);
  if (!existsSync(configFile)) {
    throw new SmokeConfigError([
      {
        where: 'project',
        message: `project "${project}" has no ${join(known.root, SMOKE_CONFIG_FILE)}: create one (see tools/delivery/README.md). Projects with one: ${withConfig.join(', ') || '(none)'}`,
      },
    ]);
  }
  return { project, projectRoot: known.root, configFile };
}

/** Reads, validates and resolves smoke.json for one environment. Throws SmokeConfigError listing every problem. */
export function loadSmokeConfig(options: LoadSmokeConfigOptions): ResolvedSmokeConfig {
  const configFile = resolve(options.workspaceRoot, options.configFile ?? join(options.projectRoot, SMOKE_CONFIG_FILE));
  const label = relative(options.workspaceRoot, configFile) || configFile;
  let text: string;
  try {
    text = readFileSync(configFile, 'utf8');
  } catch (error) {
    throw new SmokeConfigError([
      {
        where: label,
        message: `cannot read it (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}): create it or pass --config`,
      },
    ]);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new SmokeConfigError([
      {
        where: label,
        message: `is not valid JSON: ${(error as Error).message}`,
      },
    ]);
  }
  return resolveSmokeConfig(raw, { ...options, configFile, label });
}

type Raw = Record<string, unknown>;

interface ResolveContext extends LoadSmokeConfigOptions {
  configFile: string;
  label: string;
}

/** The stages below read the top level and the chosen environment's section (which wins). */
interface Sections {
  raw: Raw;
  section: Raw;
  /** `environments.<env>`, for messages. */
  envPath: string;
}

/** The `environments.<env>` section (empty, with a problem, when it is missing or not an object). */
function environmentSection(problems: Problems, raw: Raw, context: ResolveContext): Raw {
  const environments = raw['environments'];
  let section: Raw = {};
  if (!isObject(environments) || Object.keys(environments).length === 0) {
    problems.add(
      'environments',
      'is missing: add e.g. "environments": { "local": { "baseUrl": "http://127.0.0.1:3101" } }',
    );
  } else if (!Object.prototype.hasOwnProperty.call(environments, context.environment)) {
    problems.add(
      'environments',
      `has no "${context.environment}" environment (configured: ${Object.keys(environments).join(', ')}): add it or pick one of those`,
    );
  } else if (!isObject(environments[context.environment])) {
    problems.add(`environments.${context.environment}`, 'must be an object like { "baseUrl": "https://..." }');
  } else {
    section = environments[context.environment] as Raw;
    problems.unknownKeys(section, `environments.${context.environment}`, [
      '$comment',
      'baseUrl',
      'readiness',
      'versionGate',
      'requestTimeoutMs',
      'defaults',
      'checks',
      'k6',
      'playwright',
    ]);
  }
  return section;
}

/** Base URL: option > SMOKE_<PROJECT>_URL > smoke.json environments.<env>.baseUrl. */
function resolveBaseUrl(
  problems: Problems,
  { raw, section, envPath }: Sections,
  context: ResolveContext,
  env: NodeJS.ProcessEnv,
): { baseUrl: string; baseUrlSource: string } {
  const environments = raw['environments'];
  const variable = baseUrlVariable(context.project);
  let baseUrl = '';
  let baseUrlSource = '';
  if (context.overrides?.baseUrl !== undefined) {
    baseUrl = checkBaseUrl(context.overrides.baseUrl, '--base-url', problems, true);
    baseUrlSource = '--base-url';
  } else if (env[variable]) {
    baseUrl = checkBaseUrl(env[variable] as string, variable, problems, true);
    baseUrlSource = variable;
  } else if (section['baseUrl'] !== undefined) {
    baseUrl = checkBaseUrl(section['baseUrl'], `${envPath}.baseUrl`, problems, false);
    baseUrlSource = `${context.label} ${envPath}.baseUrl`;
  } else if (isObject(environments) && isObject(environments[context.environment])) {
    problems.add(`${envPath}.baseUrl`, `is missing: set it, export ${variable}, or pass --base-url`);
  }

  return { baseUrl, baseUrlSource };
}

/** A section merged from the top level and the environment's (which wins), with its keys checked. */
function mergedSection(problems: Problems, { raw, section, envPath }: Sections, key: string, allowed: string[]) {
  const result = merged(problems, raw, section, key, envPath);
  problems.unknownKeys(result.value, result.where, allowed);
  return result;
}

/** A timeout given on the command line replaces the file's. */
function timeoutOverride(problems: Problems, value: number | undefined, flag: string, current: number): number {
  if (value === undefined) return current;
  return problems.int(value, flag, { min: 0, fallback: current, unit: 'ms' });
}

function resolveReadiness(
  problems: Problems,
  { raw, section, envPath }: Sections,
  context: ResolveContext,
): ResolvedReadiness {
  const readinessRaw = mergedSection(problems, { raw, section, envPath }, 'readiness', [
    'path',
    'timeoutMs',
    'initialDelayMs',
    'maxDelayMs',
    'factor',
  ]);
  const readiness: ResolvedReadiness = {
    path: problems.urlPath(readinessRaw.value['path'], `${readinessRaw.where}.path`, DEFAULTS.readiness.path),
    ...backoff(problems, readinessRaw.value, readinessRaw.where, DEFAULTS.readiness),
  };
  readiness.timeoutMs = timeoutOverride(
    problems,
    context.overrides?.readinessTimeoutMs,
    '--readiness-timeout-ms',
    readiness.timeoutMs,
  );

  return readiness;
}

function resolveVersionGate(
  problems: Problems,
  { raw, section, envPath }: Sections,
  context: ResolveContext,
): ResolvedVersionGate {
  const gateRaw = mergedSection(problems, { raw, section, envPath }, 'versionGate', [
    'path',
    'fields',
    'timeoutMs',
    'initialDelayMs',
    'maxDelayMs',
    'factor',
    'consecutiveMatches',
    'required',
  ]);
  const fields: Record<string, JsonPath> = {};
  const fieldsRaw = gateRaw.value['fields'] ?? DEFAULTS.versionGate.fields;
  if (!isObject(fieldsRaw) || Object.keys(fieldsRaw).length === 0) {
    problems.add(
      `${gateRaw.where}.fields`,
      'must map field names to JSON paths, e.g. { "version": "$.version", "revision": "$.revision" }',
    );
  } else {
    for (const [name, path] of Object.entries(fieldsRaw)) {
      const parsed = problems.jsonPath(path, `${gateRaw.where}.fields.${name}`);
      if (parsed) fields[name] = parsed;
    }
  }
  const versionGate: ResolvedVersionGate = {
    path: problems.urlPath(gateRaw.value['path'], `${gateRaw.where}.path`, DEFAULTS.versionGate.path),
    fields,
    ...backoff(problems, gateRaw.value, gateRaw.where, DEFAULTS.versionGate),
    consecutiveMatches: problems.int(gateRaw.value['consecutiveMatches'], `${gateRaw.where}.consecutiveMatches`, {
      min: 1,
      fallback: DEFAULTS.versionGate.consecutiveMatches,
    }),
    required: problems.bool(gateRaw.value['required'], `${gateRaw.where}.required`, DEFAULTS.versionGate.required),
  };
  versionGate.timeoutMs = timeoutOverride(
    problems,
    context.overrides?.expectTimeoutMs,
    '--expect-timeout-ms',
    versionGate.timeoutMs,
  );

  return versionGate;
}

/** Top-level checks, then the environment's, each with the (merged) defaults; names unique. */
function resolveChecks(
  problems: Problems,
  { raw, section, envPath }: Sections,
  env: NodeJS.ProcessEnv,
): ResolvedCheck[] {
  const defaultsRaw = mergedSection(problems, { raw, section, envPath }, 'defaults', [
    'count',
    'intervalMs',
    'failureLimit',
    'consecutiveErrorLimit',
    'maxLatencyMs',
  ]);
  const defaults = analysisLimits(problems, defaultsRaw.value, defaultsRaw.where, DEFAULTS.check);
  const defaultMaxLatency = problems.optionalInt(
    defaultsRaw.value['maxLatencyMs'],
    `${defaultsRaw.where}.maxLatencyMs`,
    { min: 1, unit: 'ms' },
  );

  const checks: ResolvedCheck[] = [];
  const sources: { list: unknown; where: string }[] = [
    { list: raw['checks'], where: 'checks' },
    { list: section['checks'], where: `${envPath}.checks` },
  ];
  for (const { list, where } of sources) {
    if (list === undefined) continue;
    if (!Array.isArray(list)) {
      problems.add(where, 'must be an array of checks');
      continue;
    }
    list.forEach((item, index) => {
      const check = resolveCheck(problems, item, `${where}[${index}]`, defaults, defaultMaxLatency, env);
      if (!check) return;
      if (checks.some((c) => c.name === check.name)) {
        problems.add(
          `${where}[${index}].name`,
          `"${check.name}" is used by another check: give each check a unique name`,
        );
      }
      checks.push(check);
    });
  }

  return checks;
}

/** Validates an already parsed smoke.json (exported for tests and for configs kept in project.json options). */
export function resolveSmokeConfig(raw: unknown, context: ResolveContext): ResolvedSmokeConfig {
  const problems = new Problems(context.label);
  const env = context.env ?? process.env;
  const projectDir = resolve(context.workspaceRoot, context.projectRoot);

  if (!isObject(raw)) {
    throw new SmokeConfigError([
      {
        where: context.label,
        message: 'must be a JSON object with "environments" and "checks"',
      },
    ]);
  }
  problems.unknownKeys(raw, '', [
    '$comment',
    'readiness',
    'versionGate',
    'requestTimeoutMs',
    'defaults',
    'checks',
    'k6',
    'playwright',
    'environments',
  ]);

  const section = environmentSection(problems, raw, context);
  const envPath = `environments.${context.environment}`;
  const sections: Sections = { raw, section, envPath };
  const { baseUrl, baseUrlSource } = resolveBaseUrl(problems, sections, context, env);
  const requestTimeoutMs = problems.int(
    pick(section, raw, 'requestTimeoutMs'),
    section['requestTimeoutMs'] !== undefined ? `${envPath}.requestTimeoutMs` : 'requestTimeoutMs',
    {
      min: 1,
      fallback: DEFAULTS.requestTimeoutMs,
      unit: 'ms',
    },
  );

  const readiness = resolveReadiness(problems, sections, context);
  const versionGate = resolveVersionGate(problems, sections, context);
  const checks = resolveChecks(problems, sections, env);

  // --- k6 and Playwright: resolved now so a missing binary or script fails before any request
  const k6 = context.overrides?.skipK6
    ? undefined
    : resolveK6(problems, raw, section, envPath, projectDir, env, context);
  const playwright = context.overrides?.skipPlaywright
    ? undefined
    : resolvePlaywright(problems, raw, section, envPath, projectDir, context);

  problems.throwIfAny();
  return {
    project: context.project,
    environment: context.environment,
    configFile: context.configFile,
    baseUrl,
    baseUrlSource,
    requestTimeoutMs,
    readiness,
    versionGate,
    checks,
    k6,
    playwright,
  };
}

function resolveCheck(
  problems: Problems,
  item: unknown,
  where: string,
  defaults: AnalysisLimits,
  defaultMaxLatency: number | undefined,
  env: NodeJS.ProcessEnv,
): ResolvedCheck | undefined {
  if (!isObject(item)) {
    problems.add(where, 'must be an object like { "name": "list products", "path": "/products?limit=1" }');
    return undefined;
  }
  problems.unknownKeys(item, where, [
    'name',
    'method',
    'path',
    'headers',
    'body',
    'expectStatus',
    'assertions',
    'maxLatencyMs',
    'count',
    'intervalMs',
    'failureLimit',
    'consecutiveErrorLimit',
  ]);
  const method = item['method'] === undefined ? DEFAULTS.check.method : String(item['method']).toUpperCase();
  if (!HTTP_METHODS.includes(method))
    problems.add(
      `${where}.method`,
      `"${String(item['method'])}" is not an HTTP method: use one of ${HTTP_METHODS.join(', ')}`,
    );
  const path = problems.urlPath(item['path'], `${where}.path`);
  const name = item['name'] === undefined ? `${method} ${path}` : problems.string(item['name'], `${where}.name`);

  const headers: Record<string, string> = {};
  const secretHeaders: string[] = [];
  if (item['headers'] !== undefined) {
    if (!isObject(item['headers']))
      problems.add(`${where}.headers`, 'must be an object of header names to string values');
    else {
      for (const [header, value] of Object.entries(item['headers'])) {
        if (typeof value !== 'string') {
          problems.add(`${where}.headers.${header}`, `must be a string, got ${JSON.stringify(value)}`);
          continue;
        }
        if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(header))
          problems.add(`${where}.headers`, `"${header}" is not a valid header name`);
        const interpolated = interpolateEnv(value, env, `${where}.headers.${header}`, problems);
        if (interpolated.fromEnv) secretHeaders.push(header.toLowerCase());
        headers[header.toLowerCase()] = interpolated.value;
      }
    }
  }
  let body: string | undefined;
  if (item['body'] !== undefined) {
    if (typeof item['body'] === 'string') body = interpolateEnv(item['body'], env, `${where}.body`, problems).value;
    else {
      body = interpolateEnv(JSON.stringify(item['body']), env, `${where}.body`, problems).value;
      headers['content-type'] ??= 'application/json';
    }
    if (method === 'GET' || method === 'HEAD')
      problems.add(`${where}.body`, `a ${method} request cannot have a body: remove it or use POST`);
  }

  let expectStatus: number[] = [...DEFAULTS.check.expectStatus];
  if (item['expectStatus'] !== undefined) {
    const list = Array.isArray(item['expectStatus']) ? item['expectStatus'] : [item['expectStatus']];
    expectStatus = [];
    for (const status of list) {
      if (!Number.isInteger(status) || (status as number) < 100 || (status as number) > 599) {
        problems.add(
          `${where}.expectStatus`,
          `${JSON.stringify(status)} is not an HTTP status: use an integer 100-599 or a list of them`,
        );
      } else expectStatus.push(status as number);
    }
    if (list.length === 0) problems.add(`${where}.expectStatus`, 'is empty: list at least one status, e.g. [200]');
  }

  const assertions: Assertion[] = [];
  if (item['assertions'] !== undefined) {
    if (!Array.isArray(item['assertions'])) problems.add(`${where}.assertions`, 'must be an array');
    else
      item['assertions'].forEach((a, i) => {
        const assertion = resolveAssertion(problems, a, `${where}.assertions[${i}]`);
        if (assertion) assertions.push(assertion);
      });
  }

  const limits = analysisLimits(problems, item, where, defaults);
  const maxLatencyMs =
    problems.optionalInt(item['maxLatencyMs'], `${where}.maxLatencyMs`, {
      min: 1,
      unit: 'ms',
    }) ?? defaultMaxLatency;
  return {
    name,
    method,
    path,
    headers,
    secretHeaders,
    body,
    expectStatus,
    assertions,
    maxLatencyMs,
    ...limits,
  };
}

function resolveAssertion(problems: Problems, raw: unknown, where: string): Assertion | undefined {
  const example =
    'e.g. { "path": "$.status", "equals": "ok" }, { "path": "$.items", "exists": true }, { "header": "content-type", "matches": "^application/json" }';
  if (!isObject(raw)) {
    problems.add(where, `must be an object, ${example}`);
    return undefined;
  }
  problems.unknownKeys(raw, where, ['path', 'header', 'equals', 'exists', 'matches']);
  const operators = ['equals', 'exists', 'matches'].filter((key) => raw[key] !== undefined);
  if (operators.length !== 1) {
    problems.add(
      where,
      `needs exactly one of "equals", "exists", "matches" (has ${operators.length ? operators.join(', ') : 'none'}), ${example}`,
    );
    return undefined;
  }
  const hasPath = raw['path'] !== undefined;
  const hasHeader = raw['header'] !== undefined;
  if (hasPath === hasHeader) {
    problems.add(
      where,
      `needs exactly one of "path" (a JSON path into the body) or "header" (a response header name), ${example}`,
    );
    return undefined;
  }
  const operator = operators[0];
  let pattern: RegExp | undefined;
  if (operator === 'matches') pattern = problems.regex(raw['matches'], `${where}.matches`);
  if (operator === 'exists' && typeof raw['exists'] !== 'boolean') {
    problems.add(`${where}.exists`, `must be true or false, got ${JSON.stringify(raw['exists'])}`);
    return undefined;
  }
  if (hasHeader) {
    const header = problems.string(raw['header'], `${where}.header`).toLowerCase();
    if (operator === 'equals') {
      if (typeof raw['equals'] !== 'string') {
        problems.add(`${where}.equals`, `a header value is a string, got ${JSON.stringify(raw['equals'])}`);
        return undefined;
      }
      return { kind: 'header-equals', header, expected: raw['equals'] };
    }
    if (operator === 'exists')
      return {
        kind: 'header-exists',
        header,
        expected: raw['exists'] as boolean,
      };
    return pattern ? { kind: 'header-matches', header, pattern } : undefined;
  }
  const path = problems.jsonPath(raw['path'], `${where}.path`);
  if (!path) return undefined;
  if (operator === 'equals') return { kind: 'equals', path, expected: raw['equals'] };
  if (operator === 'exists') return { kind: 'exists', path, expected: raw['exists'] as boolean };
  return pattern ? { kind: 'matches', path, pattern } : undefined;
}

function resolveK6(
  problems: Problems,
  raw: Raw,
  section: Raw,
  envPath: string,
  projectDir: string,
  env: NodeJS.ProcessEnv,
  context: ResolveContext,
): ResolvedK6 | undefined {
  if (!stageEnabled(raw, section, 'k6')) return undefined;
  const k6Raw = merged(problems, raw, section, 'k6', envPath);
  problems.unknownKeys(k6Raw.value, k6Raw.where, ['script', 'env', 'timeoutMs']);
  const scriptRel = problems.string(k6Raw.value['script'], `${k6Raw.where}.script`);
  const script = scriptRel ? resolve(projectDir, scriptRel) : '';
  if (scriptRel && !existsSync(script))
    problems.add(
      `${k6Raw.where}.script`,
      `"${scriptRel}" does not exist (looked for ${script}): fix the path (relative to the project root)`,
    );
  const scriptEnv: Record<string, string> = {};
  if (k6Raw.value['env'] !== undefined) {
    if (!isObject(k6Raw.value['env']))
      problems.add(`${k6Raw.where}.env`, 'must be an object of variable names to strings');
    else
      for (const [key, value] of Object.entries(k6Raw.value['env'])) {
        if (typeof value !== 'string')
          problems.add(`${k6Raw.where}.env.${key}`, `must be a string, got ${JSON.stringify(value)}`);
        else scriptEnv[key] = interpolateEnv(value, env, `${k6Raw.where}.env.${key}`, problems).value;
      }
  }
  const timeoutMs = problems.int(k6Raw.value['timeoutMs'], `${k6Raw.where}.timeoutMs`, {
    min: 1,
    fallback: DEFAULTS.k6.timeoutMs,
    unit: 'ms',
  });
  const binary = (context.findK6 ?? resolveK6Binary)(env) ?? '';
  if (!binary) {
    problems.add(
      k6Raw.where,
      `a k6 script is configured but no k6 binary was found (K6_BIN ${env['K6_BIN'] ? `"${env['K6_BIN']}" is not an executable file` : 'is unset'}, no k6 on PATH, none in ~/go/bin): run "bash tools/scripts/install-k6.sh" or set K6_BIN, or pass --skip-k6`,
    );
  }
  return { script, binary, env: scriptEnv, timeoutMs };
}

function resolvePlaywright(
  problems: Problems,
  raw: Raw,
  section: Raw,
  envPath: string,
  projectDir: string,
  context: ResolveContext,
): ResolvedPlaywright | undefined {
  if (!stageEnabled(raw, section, 'playwright')) return undefined;
  const pwRaw = merged(problems, raw, section, 'playwright', envPath);
  problems.unknownKeys(pwRaw.value, pwRaw.where, ['dir', 'grep', 'timeoutMs']);
  const dirRel = problems.string(pwRaw.value['dir'], `${pwRaw.where}.dir`);
  const dir = dirRel ? resolve(projectDir, dirRel) : '';
  let cli = '';
  if (dirRel) {
    if (!PLAYWRIGHT_CONFIGS.some((file) => existsSync(join(dir, file)))) {
      problems.add(
        `${pwRaw.where}.dir`,
        `"${dirRel}" (${dir}) has no playwright.config.*: point it at the Playwright project (relative to the project root)`,
      );
    } else {
      cli = (context.findPlaywrightCli ?? resolvePlaywrightCli)(dir) ?? '';
      if (!cli)
        problems.add(
          `${pwRaw.where}.dir`,
          `@playwright/test cannot be resolved from ${dir}: install it (npm install -D @playwright/test)`,
        );
    }
  }
  const grep =
    pwRaw.value['grep'] === undefined
      ? DEFAULTS.playwright.grep
      : problems.string(pwRaw.value['grep'], `${pwRaw.where}.grep`);
  if (grep) problems.regex(grep, `${pwRaw.where}.grep`);
  const timeoutMs = problems.int(pwRaw.value['timeoutMs'], `${pwRaw.where}.timeoutMs`, {
    min: 1,
    fallback: DEFAULTS.playwright.timeoutMs,
    unit: 'ms',
  });
  return { dir, cli, grep, timeoutMs };
}

/** k6 from K6_BIN, then PATH, then ~/go/bin (where `go install go.k6.io/k6@...` puts it). */
export function resolveK6Binary(env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (env['K6_BIN']) return isExecutable(env['K6_BIN']) ? resolve(env['K6_BIN']) : undefined;
  for (const dir of (env['PATH'] ?? '').split(delimiter)) {
    if (dir && isExecutable(join(dir, 'k6'))) return join(dir, 'k6');
  }
  const goBin = join(env['HOME'] || homedir(), 'go', 'bin', 'k6');
  return isExecutable(goBin) ? goBin : undefined;
}

export function resolvePlaywrightCli(dir: string): string | undefined {
  try {
    return require.resolve('@playwright/test/cli', { paths: [dir] });
  } catch {
    return undefined;
  }
}

function isExecutable(file: string): boolean {
  try {
    if (!statSync(file).isFile()) return false;
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function interpolateEnv(
  value: string,
  env: NodeJS.ProcessEnv,
  where: string,
  problems: Problems,
): { value: string; fromEnv: boolean } {
  let fromEnv = false;
  const result = value.replace(ENV_REFERENCE, (_match, name: string) => {
    fromEnv = true;
    const resolved = env[name];
    if (resolved === undefined) {
      problems.add(
        where,
        `uses \${env.${name}}, which is not set: export ${name} (its value is never printed) or remove the reference`,
      );
      return '';
    }
    return resolved;
  });
  return { value: result, fromEnv };
}

function checkBaseUrl(value: unknown, where: string, problems: Problems, fromOutside: boolean): string {
  const fix = fromOutside
    ? `set ${where} to an absolute http(s) URL like http://127.0.0.1:3101`
    : 'use an absolute http(s) URL like "http://127.0.0.1:3101"';
  if (typeof value !== 'string' || value.trim() === '') {
    problems.add(where, `${JSON.stringify(value)} is not a URL: ${fix}`, fromOutside);
    return '';
  }
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    problems.add(where, `"${value}" is not a valid URL: ${fix}`, fromOutside);
    return '';
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    problems.add(where, `"${value}" uses ${url.protocol.replace(':', '')}, not http or https: ${fix}`, fromOutside);
    return '';
  }
  if (url.search || url.hash) {
    problems.add(
      where,
      `"${value}" has a query or fragment: give only scheme, host, port and an optional path prefix`,
      fromOutside,
    );
    return '';
  }
  if (url.username || url.password) {
    problems.add(
      where,
      `"${url.protocol}//***@${url.host}" embeds credentials: put them in a check's headers via \${env.NAME} instead`,
      fromOutside,
    );
    return '';
  }
  return url.toString().replace(/\/+$/, '');
}

function backoff(problems: Problems, raw: Raw, where: string, defaults: BackoffOptions): BackoffOptions {
  const initialDelayMs = problems.int(raw['initialDelayMs'], `${where}.initialDelayMs`, {
    min: 1,
    fallback: defaults.initialDelayMs,
    unit: 'ms',
  });
  const maxDelayMs = problems.int(raw['maxDelayMs'], `${where}.maxDelayMs`, {
    min: 1,
    fallback: defaults.maxDelayMs,
    unit: 'ms',
  });
  if (maxDelayMs < initialDelayMs)
    problems.add(
      `${where}.maxDelayMs`,
      `${maxDelayMs} is below initialDelayMs ${initialDelayMs}: raise it or lower initialDelayMs`,
    );
  const factor = raw['factor'] === undefined ? defaults.factor : raw['factor'];
  if (typeof factor !== 'number' || !Number.isFinite(factor) || factor < 1 || factor > 10) {
    problems.add(
      `${where}.factor`,
      `${JSON.stringify(factor)} is not a backoff factor: use a number from 1 to 10 (e.g. 2)`,
    );
  }
  return {
    timeoutMs: problems.int(raw['timeoutMs'], `${where}.timeoutMs`, {
      min: 0,
      fallback: defaults.timeoutMs,
      unit: 'ms',
    }),
    initialDelayMs,
    maxDelayMs,
    factor: typeof factor === 'number' ? factor : defaults.factor,
  };
}

function analysisLimits(problems: Problems, raw: Raw, where: string, defaults: AnalysisLimits): AnalysisLimits {
  return {
    count: problems.int(raw['count'], `${where}.count`, {
      min: 1,
      max: 1000,
      fallback: defaults.count,
    }),
    intervalMs: problems.int(raw['intervalMs'], `${where}.intervalMs`, {
      min: 0,
      fallback: defaults.intervalMs,
      unit: 'ms',
    }),
    failureLimit: problems.int(raw['failureLimit'], `${where}.failureLimit`, {
      min: 0,
      fallback: defaults.failureLimit,
    }),
    consecutiveErrorLimit: problems.int(raw['consecutiveErrorLimit'], `${where}.consecutiveErrorLimit`, {
      min: 0,
      fallback: defaults.consecutiveErrorLimit,
    }),
  };
}

/** A section from the top level with the environment's keys laid over it. */
function merged(
  problems: Problems,
  raw: Raw,
  section: Raw,
  key: string,
  envPath: string,
): { value: Raw; where: string } {
  const base = raw[key];
  const override = section[key];
  const where = override !== undefined ? `${envPath}.${key}` : key;
  for (const [value, at] of [
    [base, key],
    [override, `${envPath}.${key}`],
  ] as const) {
    if (value !== undefined && value !== false && !isObject(value))
      problems.add(at, `must be an object${key === 'k6' || key === 'playwright' ? ' or false' : ''}`);
  }
  return {
    value: {
      ...(isObject(base) ? base : {}),
      ...(isObject(override) ? override : {}),
    },
    where,
  };
}

/** The environment's value wins; `false` at either level switches the stage off. */
function stageEnabled(raw: Raw, section: Raw, key: 'k6' | 'playwright'): boolean {
  const value = section[key] !== undefined ? section[key] : raw[key];
  return value !== undefined && value !== false;
}

function pick(section: Raw, raw: Raw, key: string): unknown {
  return section[key] !== undefined ? section[key] : raw[key];
}

function isObject(value: unknown): value is Raw {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

class Problems {
  readonly list: ConfigProblem[] = [];
  constructor(private readonly label: string) {}

  add(where: string, message: string, external = false): void {
    // Options and environment variables are not in the file: name them alone.
    this.list.push({
      where: external ? where : `${this.label} ${where}`,
      message,
    });
  }

  throwIfAny(): void {
    if (this.list.length) throw new SmokeConfigError(this.list);
  }

  unknownKeys(raw: Raw, where: string, allowed: string[]): void {
    for (const key of Object.keys(raw)) {
      if (!allowed.includes(key)) {
        this.add(
          where ? `${where}.${key}` : key,
          `unknown key "${key}": allowed here are ${allowed.filter((k) => k !== '$comment').join(', ')}`,
        );
      }
    }
  }

  int(value: unknown, where: string, o: { min: number; max?: number; fallback: number; unit?: string }): number {
    if (value === undefined) return o.fallback;
    const external = where.startsWith('--');
    const unit = o.unit ? ` ${o.unit}` : '';
    if (typeof value !== 'number' || !Number.isInteger(value)) {
      this.add(where, `${JSON.stringify(value)} is not a whole number: use e.g. ${o.fallback}${unit}`, external);
      return o.fallback;
    }
    if (value < o.min) {
      const what = where.toLowerCase().includes('timeout') ? 'a timeout' : 'it';
      this.add(
        where,
        `${value} is ${value < 0 ? 'negative' : 'too small'}: ${what} must be ≥ ${o.min}${unit} (e.g. ${o.fallback})`,
        external,
      );
      return o.fallback;
    }
    if (o.max !== undefined && value > o.max) {
      this.add(where, `${value} is too large: use at most ${o.max}${unit}`, external);
      return o.fallback;
    }
    return value;
  }

  optionalInt(value: unknown, where: string, o: { min: number; unit?: string }): number | undefined {
    if (value === undefined) return undefined;
    return this.int(value, where, { ...o, fallback: Math.max(o.min, 500) });
  }

  bool(value: unknown, where: string, fallback: boolean): boolean {
    if (value === undefined) return fallback;
    if (typeof value !== 'boolean') {
      this.add(where, `must be true or false, got ${JSON.stringify(value)}`);
      return fallback;
    }
    return value;
  }

  string(value: unknown, where: string): string {
    if (typeof value !== 'string' || value === '') {
      this.add(where, value === undefined ? 'is missing' : `must be a non-empty string, got ${JSON.stringify(value)}`);
      return '';
    }
    return value;
  }

  urlPath(value: unknown, where: string, fallback?: string): string {
    if (value === undefined && fallback !== undefined) return fallback;
    if (typeof value !== 'string' || !value.startsWith('/') || /\s/.test(value) || value.startsWith('//')) {
      this.add(
        where,
        `${value === undefined ? 'is missing' : JSON.stringify(value) + ' is not a path'}: use a path from the base URL starting with "/", e.g. "/health"`,
      );
      return fallback ?? '/';
    }
    return value;
  }

  jsonPath(value: unknown, where: string): JsonPath | undefined {
    if (typeof value !== 'string') {
      this.add(where, `must be a JSON path string like "$.items[0].id", got ${JSON.stringify(value)}`);
      return undefined;
    }
    try {
      return parseJsonPath(value);
    } catch (error) {
      if (error instanceof JsonPathSyntaxError) {
        this.add(
          where,
          `${error.message}: write it like "$.items[0].id", "$['content-type']" or "$.items[*].currency"`,
        );
        return undefined;
      }
      throw error;
    }
  }

  regex(value: unknown, where: string): RegExp | undefined {
    if (typeof value !== 'string') {
      this.add(where, `must be a regular expression string, got ${JSON.stringify(value)}`);
      return undefined;
    }
    try {
      return new RegExp(value);
    } catch (error) {
      this.add(
        where,
        `"${value}" is not a valid regular expression (${(error as Error).message}): escape special characters, e.g. "^1\\\\.2\\\\."`,
      );
      return undefined;
    }
  }
}
