import type { FastifyInstance } from 'fastify';
import { redactCredentials } from './config.js';

export type ReadinessCheck = () => Promise<void>;

export interface CheckResult {
  status: 'up' | 'down';
  durationMs: number;
  error?: string;
}

export interface ReadinessReport {
  ready: boolean;
  failing: string[];
  checks: Record<string, CheckResult>;
}

export const DEFAULT_CHECK_TIMEOUT_MS = 2_000;

/** The check name reported while the service drains: load balancers must stop sending traffic. */
export const SHUTDOWN_CHECK = 'shutdown';

interface RegisteredCheck {
  check: ReadinessCheck;
  timeoutMs: number;
}

export class HealthRegistry {
  private readonly checks = new Map<string, RegisteredCheck>();
  private shuttingDown = false;

  add(name: string, check: ReadinessCheck, opts?: { timeoutMs?: number }): void {
    if (!name || typeof name !== 'string') throw new TypeError('readiness check name must be a non-empty string');
    if (this.checks.has(name)) throw new Error(`readiness check "${name}" is already registered; pick a distinct name`);
    const timeoutMs = opts?.timeoutMs ?? DEFAULT_CHECK_TIMEOUT_MS;
    if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) {
      throw new RangeError(`readiness check "${name}": timeoutMs must be a positive number, got ${timeoutMs}`);
    }
    this.checks.set(name, { check, timeoutMs });
  }

  markShuttingDown(): void {
    this.shuttingDown = true;
  }

  get isShuttingDown(): boolean {
    return this.shuttingDown;
  }

  /** Runs every check concurrently, each bounded by its own timeout. */
  async run(): Promise<ReadinessReport> {
    const entries = [...this.checks.entries()];
    const results = await Promise.all(entries.map(([name, registered]) => runCheck(name, registered)));
    const checks: Record<string, CheckResult> = {};
    entries.forEach(([name], i) => (checks[name] = results[i]));
    if (this.shuttingDown) {
      checks[SHUTDOWN_CHECK] = { status: 'down', durationMs: 0, error: 'service is shutting down' };
    }
    const failing = Object.keys(checks).filter((name) => checks[name].status === 'down');
    return { ready: failing.length === 0, failing, checks };
  }
}

async function runCheck(name: string, { check, timeoutMs }: RegisteredCheck): Promise<CheckResult> {
  const started = performance.now();
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      // Wrapped so a check that throws synchronously is reported like one that rejects.
      Promise.resolve().then(check),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
    return { status: 'up', durationMs: elapsed(started) };
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    // Driver errors can quote connection strings; never hand credentials to an HTTP client.
    return { status: 'down', durationMs: elapsed(started), error: redactCredentials(message || 'check failed') };
  } finally {
    clearTimeout(timer);
  }
}

function elapsed(started: number): number {
  return Math.round((performance.now() - started) * 10) / 10;
}

export interface ServiceIdentity {
  name: string;
  version: string;
  revision: string;
}

export function registerHealthRoutes(app: FastifyInstance, health: HealthRegistry, identity: ServiceIdentity): void {
  const startedAt = performance.now();
  const probeConfig = { config: { rateLimit: false as const }, logLevel: 'warn' as const };

  app.get('/health/liveness', probeConfig, async () => ({ status: 'ok' }));

  app.get('/health/readiness', probeConfig, async (_request, reply) => {
    const report = await health.run();
    if (report.ready) return { status: 'ready', checks: report.checks };
    return reply.code(503).send({ status: 'not-ready', failing: report.failing, checks: report.checks });
  });

  app.get('/health', probeConfig, async () => {
    const report = await health.run();
    return {
      service: identity.name,
      version: identity.version,
      revision: identity.revision,
      status: report.ready ? 'ok' : 'degraded',
      uptimeSeconds: Math.floor((performance.now() - startedAt) / 1000),
      checks: report.checks,
    };
  });
}
