import { hostname } from 'node:os';
import helmet, { type FastifyHelmetOptions } from '@fastify/helmet';
import rateLimit from '@fastify/rate-limit';
import fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import { Redis } from 'ioredis';
import pino, { type DestinationStream, type LoggerOptions } from 'pino';
import type { Registry } from 'prom-client';
import { redactCredentials } from './config.js';
import { registerErrorHandler, registerNotFoundHandler } from './errors.js';
import { HealthRegistry, registerHealthRoutes, type ReadinessCheck } from './health.js';
import { createMetrics, registerMetrics } from './metrics.js';
import { registerRequestContext, requestIdFrom } from './request-context.js';
import { ShutdownCoordinator, installSignalHandlers } from './shutdown.js';
import { parseTrustedProxies } from './trusted-proxies.js';

export interface RateLimitSettings {
  max: number;
  timeWindowMs: number;
  /** Redis key prefix; default `slipway:rate-limit:<service name>:`. */
  keyPrefix?: string;
}

export interface ServiceOptions {
  name: string;
  /** Default: APP_VERSION, else "0.0.0-dev". */
  version?: string;
  /** Default: APP_REVISION, else "unknown". */
  revision?: string;
  /** Default 3000; 0 picks a free port (see the URL listen() returns). */
  port?: number;
  /** Default 127.0.0.1; containers pass 0.0.0.0 (baseConfig HOST does). */
  host?: string;
  /** false silences logs; an object is merged into the pino options. Default: LOG_LEVEL or info. */
  logger?: boolean | LoggerOptions;
  /** Where JSON log lines go (default stdout); tests capture them here. */
  logStream?: DestinationStream;
  /** Shared rate-limit store and a `redis` readiness check when set. */
  redisUrl?: string;
  /** Default { max: 100, timeWindowMs: 60000 }; false disables rate limiting. */
  rateLimit?: RateLimitSettings | false;
  /** Bound for shutdown(); default 10000. */
  shutdownTimeoutMs?: number;
  /** Keep serving with readiness 503 this long before closing the listener; default 0. */
  drainDelayMs?: number;
  /** @fastify/helmet options; false disables it. */
  helmet?: FastifyHelmetOptions | false;
  trustProxy?: FastifyServerOptions['trustProxy'];
  bodyLimit?: number;
}

export interface Service {
  readonly name: string;
  readonly app: FastifyInstance;
  /** This service's own metrics registry (what /metrics exposes). */
  readonly registry: Registry;
  /** The Redis client used for rate limiting, when redisUrl is set. */
  readonly redis: Redis | undefined;
  readonly isShuttingDown: boolean;
  addReadinessCheck(name: string, check: ReadinessCheck, opts?: { timeoutMs?: number }): void;
  onShutdown(fn: () => Promise<void>): void;
  listen(): Promise<string>;
  shutdown(reason?: string): Promise<void>;
  installSignalHandlers(): void;
}

// Fastify's serializers never log headers; these catch handlers that log them explicitly.
const REDACTED_PATHS = ['authorization', 'cookie', '["x-api-key"]', '["set-cookie"]'].flatMap((h) => [
  `headers${h.startsWith('[') ? h : `.${h}`}`,
  `*.headers${h.startsWith('[') ? h : `.${h}`}`,
]);

function loggerOptions(opts: ServiceOptions, version: string): LoggerOptions | false {
  if (opts.logger === false) return false;
  const custom = typeof opts.logger === 'object' ? opts.logger : {};
  return {
    level: process.env['LOG_LEVEL'] || 'info',
    base: { service: opts.name, version, pid: process.pid, hostname: hostname() },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    ...custom,
  };
}

function validateOptions(opts: ServiceOptions): void {
  const problems: string[] = [];
  if (!opts || typeof opts.name !== 'string' || opts.name.trim() === '') {
    problems.push('name must be a non-empty string (the service name shown by /health and in logs)');
  }
  if (opts?.port !== undefined && (!Number.isInteger(opts.port) || opts.port < 0 || opts.port > 65535)) {
    problems.push(`port must be an integer from 0 to 65535, got ${String(opts.port)}`);
  }
  if (
    opts?.shutdownTimeoutMs !== undefined &&
    !(Number.isFinite(opts.shutdownTimeoutMs) && opts.shutdownTimeoutMs > 0)
  ) {
    problems.push(`shutdownTimeoutMs must be a positive number, got ${String(opts.shutdownTimeoutMs)}`);
  }
  if (opts?.drainDelayMs !== undefined && opts.drainDelayMs >= (opts.shutdownTimeoutMs ?? 10_000)) {
    problems.push(
      `drainDelayMs (${opts.drainDelayMs}) must be shorter than shutdownTimeoutMs (${opts.shutdownTimeoutMs ?? 10_000}), which bounds the delay and the drain together: raise SHUTDOWN_TIMEOUT_MS or lower DRAIN_DELAY_MS`,
    );
  }
  if (opts?.rateLimit) {
    const { max, timeWindowMs } = opts.rateLimit;
    if (!Number.isInteger(max) || max < 1) problems.push(`rateLimit.max must be an integer >= 1, got ${String(max)}`);
    if (!Number.isInteger(timeWindowMs) || timeWindowMs < 1) {
      problems.push(`rateLimit.timeWindowMs must be an integer >= 1, got ${String(timeWindowMs)}`);
    }
  }
  if (
    opts?.redisUrl !== undefined &&
    !(URL.canParse(opts.redisUrl) && /^rediss?:$/.test(new URL(opts.redisUrl).protocol))
  ) {
    problems.push('redisUrl must be a redis:// or rediss:// URL (value hidden: may hold a password)');
  }
  if (problems.length > 0) throw new TypeError(`createService: ${problems.join('; ')}`);
}

function createRedis(url: string, app: FastifyInstance): Redis & { lastErrorMessage(): string } {
  const redis = new Redis(url, {
    // Fail fast while disconnected: a Redis outage must cost a request microseconds (the rate
    // limiter then fails open), not a queue wait until reconnect.
    enableOfflineQueue: false,
    connectTimeout: 2_000,
    // ioredis waits this long before destroying a socket on disconnect, even one that never
    // connected; keep it short so closing during an outage does not hold the process open.
    disconnectTimeout: 300,
    maxRetriesPerRequest: 1,
    retryStrategy: (times) => Math.min(times * 200, 2_000),
  });
  let lastMessage = '';
  redis.on('error', (error: Error) => {
    // ioredis repeats the same error on every reconnect attempt; log each distinct one once.
    const message = redactCredentials(error.message);
    if (message !== lastMessage) app.log.warn({ redisError: message }, 'redis connection error');
    lastMessage = message;
  });
  redis.on('ready', () => (lastMessage = ''));
  return Object.assign(redis, { lastErrorMessage: () => lastMessage });
}

async function checkRedis(redis: Redis & { lastErrorMessage(): string }): Promise<void> {
  if (redis.status !== 'ready') {
    const cause = redis.lastErrorMessage();
    throw new Error(`redis is ${redis.status}${cause ? `: ${cause}` : ''}`);
  }
  await redis.ping();
}

async function closeRedis(redis: Redis): Promise<void> {
  if (redis.status === 'ready') {
    await Promise.race([redis.quit().catch(() => undefined), new Promise((r) => setTimeout(r, 1_000).unref())]);
  }
  redis.disconnect();
}

/**
 * Builds a Fastify 5 service with the Slipway plumbing: request ids, JSON logs, health, metrics,
 * error shaping, helmet, rate limiting and graceful shutdown. Register routes on `service.app`.
 */
export async function createService(opts: ServiceOptions): Promise<Service> {
  validateOptions(opts);
  const version = opts.version ?? (process.env['APP_VERSION'] || '0.0.0-dev');
  const revision = opts.revision ?? (process.env['APP_REVISION'] || 'unknown');
  const logger = loggerOptions(opts, version);

  const app = fastify({
    logger: logger === false ? false : opts.logStream ? { ...logger, stream: opts.logStream } : logger,
    genReqId: (req) => requestIdFrom(req.headers),
    requestIdLogLabel: 'requestId',
    trustProxy: opts.trustProxy,
    bodyLimit: opts.bodyLimit,
    // Report every invalid field at once, like the config validation does.
    ajv: { customOptions: { allErrors: true } },
  }) as unknown as FastifyInstance;

  registerRequestContext(app);
  registerErrorHandler(app);

  const metrics = createMetrics(opts.name);
  registerMetrics(app, metrics);

  const health = new HealthRegistry();
  const shutdown = new ShutdownCoordinator(
    {
      stopReadiness: () => health.markShuttingDown(),
      drain: async () => {
        // Keep-alive sockets that carried an in-flight request stay open after its response, and
        // server.close() would wait for them until keepAliveTimeout; sweep them as they go idle.
        const sweeper = setInterval(() => app.server.closeIdleConnections(), 100);
        try {
          await app.close();
        } finally {
          clearInterval(sweeper);
        }
      },
      forceClose: () => app.server.closeAllConnections(),
    },
    { timeoutMs: opts.shutdownTimeoutMs ?? 10_000, drainDelayMs: opts.drainDelayMs, logger: app.log },
  );

  // Responses sent while draining tell the client to reconnect elsewhere instead of reusing this socket.
  app.addHook('onSend', (_request, reply, payload, done) => {
    if (health.isShuttingDown) reply.header('connection', 'close');
    done(null, payload);
  });

  if (opts.helmet !== false) await app.register(helmet, opts.helmet ?? {});

  const redis = opts.redisUrl ? createRedis(opts.redisUrl, app) : undefined;
  if (redis) {
    health.add('redis', () => checkRedis(redis));
    // Registered first so it runs last: application hooks may still use Redis while closing.
    shutdown.onShutdown(() => closeRedis(redis));
  }

  const limits = opts.rateLimit === undefined ? { max: 100, timeWindowMs: 60_000 } : opts.rateLimit;
  try {
    if (limits) {
      await app.register(rateLimit, {
        max: limits.max,
        timeWindow: limits.timeWindowMs,
        redis,
        nameSpace: limits.keyPrefix ?? `slipway:rate-limit:${opts.name}:`,
        // A Redis outage degrades to "no rate limit" instead of failing every request; readiness
        // reports the outage.
        skipOnError: true,
      });
    }
    registerNotFoundHandler(app, limits ? app.rateLimit() : undefined);
  } catch (error) {
    // No half-built service: the caller never gets a handle to close this client with.
    redis?.disconnect();
    throw error;
  }

  registerHealthRoutes(app, health, { name: opts.name, version, revision });

  const port = opts.port ?? 3000;
  const host = opts.host ?? '127.0.0.1';
  let removeSignalHandlers: (() => void) | undefined;

  return {
    name: opts.name,
    app,
    registry: metrics.registry,
    redis,
    get isShuttingDown() {
      return health.isShuttingDown;
    },
    addReadinessCheck: (name, check, checkOpts) => health.add(name, check, checkOpts),
    onShutdown: (fn) => shutdown.onShutdown(fn),
    async listen() {
      await app.listen({ port, host });
      const address = app.server.address();
      const boundPort = typeof address === 'object' && address ? address.port : port;
      // A wildcard bind is reachable on loopback; hand out a URL a client can actually use.
      const shown = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
      return `http://${shown}:${boundPort}`;
    },
    shutdown: async (reason) => {
      try {
        await shutdown.shutdown(reason);
      } finally {
        removeSignalHandlers?.();
      }
    },
    installSignalHandlers() {
      removeSignalHandlers ??= installSignalHandlers((reason) => shutdown.shutdown(reason), { logger: app.log });
    },
  };
}

/** Maps values loaded with `baseConfig` to ServiceOptions (the usual wiring in a service's main.ts). */
export function serviceOptionsFromConfig(
  name: string,
  config: {
    PORT: number;
    HOST: string;
    APP_VERSION: string;
    APP_REVISION: string;
    LOG_LEVEL: string;
    REDIS_URL?: string | undefined;
    RATE_LIMIT_MAX: number;
    RATE_LIMIT_WINDOW_MS: number;
    SHUTDOWN_TIMEOUT_MS: number;
    DRAIN_DELAY_MS?: number;
    TRUSTED_PROXIES?: string | undefined;
  },
): ServiceOptions {
  const trustProxy = parseTrustedProxies(config.TRUSTED_PROXIES);
  return {
    name,
    port: config.PORT,
    host: config.HOST,
    version: config.APP_VERSION,
    revision: config.APP_REVISION,
    logger: { level: config.LOG_LEVEL },
    redisUrl: config.REDIS_URL,
    rateLimit: { max: config.RATE_LIMIT_MAX, timeWindowMs: config.RATE_LIMIT_WINDOW_MS },
    shutdownTimeoutMs: config.SHUTDOWN_TIMEOUT_MS,
    ...(config.DRAIN_DELAY_MS ? { drainDelayMs: config.DRAIN_DELAY_MS } : {}),
    ...(trustProxy ? { trustProxy } : {}),
  };
}
