/**
 * Configuration from environment variables, validated once at start.
 *
 * Every variable is checked before the first problem is reported, so an operator fixing a
 * deployment sees the whole list in one go instead of one crash per restart.
 */

export type EnvVarType = 'string' | 'url' | 'int' | 'port' | 'boolean' | 'duration-ms';

export type EnvVarSpec = {
  type: EnvVarType;
  /** Fail at start when the variable is unset or empty and no default exists. */
  required?: boolean;
  /** Used when the variable is unset or empty. Strings are parsed like the variable itself. */
  default?: unknown;
  /** Never echo the value in errors or logs. */
  secret?: boolean;
  description?: string;
  /** For type 'string': the accepted values. */
  oneOf?: readonly string[];
};

type ValueOfType<T> = T extends 'int' | 'port' | 'duration-ms' ? number : T extends 'boolean' ? boolean : string;

type HasValue<V> = V extends { required: true }
  ? true
  : V extends { default: infer D }
    ? [D] extends [undefined]
      ? false
      : true
    : false;

export type ConfigOf<S> = {
  [K in keyof S]: S[K] extends { type: infer T }
    ? HasValue<S[K]> extends true
      ? ValueOfType<T>
      : ValueOfType<T> | undefined
    : never;
};

export interface ConfigProblem {
  variable: string;
  message: string;
}

export class ConfigError extends Error {
  readonly problems: ConfigProblem[];

  constructor(problems: ConfigProblem[]) {
    const lines = problems.map((p) => `  - ${p.variable}: ${p.message}`);
    super(
      `Invalid configuration: ${problems.length} problem${problems.length === 1 ? '' : 's'} in environment variables\n${lines.join('\n')}`,
    );
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

/** Identity at runtime; keeps literal types so `loadConfig` can infer precise value types. */
export function defineConfig<const S extends Record<string, EnvVarSpec>>(spec: S): S {
  return spec;
}

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

export const baseConfig = defineConfig({
  PORT: { type: 'port', default: 3000, description: 'TCP port the HTTP server listens on' },
  HOST: {
    type: 'string',
    // 0.0.0.0 so the service is reachable inside a container; set 127.0.0.1 to stay local.
    default: '0.0.0.0',
    description: 'interface the HTTP server binds to',
  },
  APP_VERSION: { type: 'string', default: '0.0.0-dev', description: 'released version shown by /health' },
  APP_REVISION: { type: 'string', default: 'unknown', description: 'git revision shown by /health' },
  LOG_LEVEL: { type: 'string', default: 'info', oneOf: LOG_LEVELS, description: 'pino log level' },
  REDIS_URL: {
    type: 'url',
    // May carry a password (redis://:pw@host), so it is never echoed.
    secret: true,
    description: 'Redis for the shared rate-limit store; unset = in-process store',
  },
  RATE_LIMIT_MAX: { type: 'int', default: 100, description: 'requests per client per window' },
  TRUSTED_PROXIES: {
    type: 'string',
    description:
      'comma-separated IPs/CIDRs of proxies (the web server) whose X-Forwarded-For names the client; unset = none',
  },
  RATE_LIMIT_WINDOW_MS: { type: 'duration-ms', default: 60_000, description: 'rate-limit window' },
  SHUTDOWN_TIMEOUT_MS: {
    type: 'duration-ms',
    default: 10_000,
    description: 'upper bound for draining and closing on SIGTERM before a forced exit',
  },
  DRAIN_DELAY_MS: {
    type: 'duration-ms',
    // 0 for a process nobody balances (dev, tests); deployments behind a load balancer set it
    // longer than the time the balancer needs to see readiness 503 and stop sending.
    default: 0,
    description: 'after SIGTERM, keep serving (readiness 503) this long before closing the listener',
  },
});

const EXAMPLES: Record<EnvVarType, string> = {
  string: 'a non-empty string',
  url: 'an absolute URL such as http://127.0.0.1:3101 or redis://127.0.0.1:6379',
  int: 'an integer such as 100',
  port: 'an integer from 0 to 65535 such as 3101',
  boolean: 'one of true, false, 1, 0, yes, no, on, off',
  'duration-ms': 'milliseconds as an integer (5000) or with a unit (250ms, 5s, 2m, 1h)',
};

type Parsed = { ok: true; value: unknown } | { ok: false; reason: string };

const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

function parseValue(spec: EnvVarSpec, raw: string): Parsed {
  switch (spec.type) {
    case 'string':
      if (spec.oneOf && !spec.oneOf.includes(raw)) {
        return { ok: false, reason: `is not one of ${spec.oneOf.join(', ')}` };
      }
      return { ok: true, value: raw };
    case 'url': {
      // `new URL('localhost:6379')` parses with scheme "localhost:", so also demand scheme://host.
      if (!/^[a-z][a-z0-9+.-]*:\/\/[^/?#]/i.test(raw) || !URL.canParse(raw)) {
        return { ok: false, reason: 'is not a valid absolute URL' };
      }
      return { ok: true, value: raw };
    }
    case 'int':
    case 'port': {
      if (!/^-?\d+$/.test(raw)) return { ok: false, reason: 'is not an integer' };
      const n = Number(raw);
      if (!Number.isSafeInteger(n)) return { ok: false, reason: 'is out of the safe integer range' };
      if (spec.type === 'port' && (n < 0 || n > 65535)) {
        return { ok: false, reason: 'is not a port (0-65535)' };
      }
      return { ok: true, value: n };
    }
    case 'boolean': {
      const v = raw.toLowerCase();
      if (['true', '1', 'yes', 'on'].includes(v)) return { ok: true, value: true };
      if (['false', '0', 'no', 'off'].includes(v)) return { ok: true, value: false };
      return { ok: false, reason: 'is not a boolean' };
    }
    case 'duration-ms': {
      const m = /^(\d+)(ms|s|m|h)?$/.exec(raw);
      if (!m) return { ok: false, reason: 'is not a duration' };
      const n = Number(m[1]) * DURATION_UNITS[m[2] ?? 'ms'];
      if (!Number.isSafeInteger(n)) return { ok: false, reason: 'is out of the safe integer range' };
      return { ok: true, value: n };
    }
    default:
      return { ok: false, reason: `has an unknown type in the spec (${String((spec as EnvVarSpec).type)})` };
  }
}

/** Hides credentials embedded in URLs (scheme://user:password@host) before echoing a value. */
export function redactCredentials(text: string): string {
  return text.replace(/([a-z][a-z0-9+.-]*:\/\/[^/\s:@]*:)[^@\s/]*@/gi, '$1***@');
}

function describe(variable: string, spec: EnvVarSpec): string {
  return spec.description ? `${variable} (${spec.description})` : variable;
}

/**
 * Reads and validates every variable of `spec` from `env` (default `process.env`).
 * Throws one ConfigError listing every missing or invalid variable; secret values are never echoed.
 */
export function loadConfig<S extends Record<string, EnvVarSpec>>(
  spec: S,
  env: NodeJS.ProcessEnv = process.env,
): ConfigOf<S> {
  const problems: ConfigProblem[] = [];
  const result: Record<string, unknown> = {};

  for (const [variable, varSpec] of Object.entries(spec)) {
    const raw = env[variable];
    const isSet = raw !== undefined && raw.trim() !== '';

    if (!isSet) {
      if (varSpec.default !== undefined) {
        if (typeof varSpec.default === 'string') {
          const parsed = parseValue(varSpec, varSpec.default);
          if (!parsed.ok) {
            // A broken default is a programming error, but report it with the rest.
            problems.push({
              variable,
              message: `default value ${parsed.reason}; fix the config spec or set ${variable} to ${EXAMPLES[varSpec.type]}`,
            });
            continue;
          }
          result[variable] = parsed.value;
        } else {
          result[variable] = varSpec.default;
        }
      } else if (varSpec.required) {
        problems.push({
          variable,
          message: `is required but not set; set ${describe(variable, varSpec)} to ${EXAMPLES[varSpec.type]}`,
        });
      } else {
        result[variable] = undefined;
      }
      continue;
    }

    const value = raw.trim();
    const parsed = parseValue(varSpec, value);
    if (parsed.ok) {
      result[variable] = parsed.value;
      continue;
    }
    const shown = varSpec.secret ? '(value hidden: secret)' : JSON.stringify(redactCredentials(value));
    const expected = varSpec.oneOf ? `one of ${varSpec.oneOf.join(', ')}` : EXAMPLES[varSpec.type];
    problems.push({
      variable,
      message: `${shown} ${parsed.reason}; set ${describe(variable, varSpec)} to ${expected}`,
    });
  }

  if (problems.length > 0) throw new ConfigError(problems);
  return result as ConfigOf<S>;
}
