import { EventEmitter } from 'node:events';
import { createService } from './service.js';
import { ShutdownCoordinator, ShutdownTimeoutError, installSignalHandlers } from './shutdown.js';

function recordingLogger() {
  const entries: { level: 'info' | 'error'; msg: string; obj: object }[] = [];
  return {
    entries,
    info: (obj: object, msg: string) => entries.push({ level: 'info', msg, obj }),
    error: (obj: object, msg: string) => entries.push({ level: 'error', msg, obj }),
  };
}

describe('ShutdownCoordinator', () => {
  it('stops readiness first, drains, then runs hooks last-registered first', async () => {
    const order: string[] = [];
    const logger = recordingLogger();
    const coordinator = new ShutdownCoordinator(
      {
        stopReadiness: () => order.push('readiness'),
        drain: async () => {
          await new Promise((r) => setTimeout(r, 10));
          order.push('drained');
        },
        forceClose: () => order.push('force'),
      },
      { timeoutMs: 1_000, logger },
    );
    coordinator.onShutdown(async () => void order.push('close redis'));
    coordinator.onShutdown(async () => {
      order.push('close pool');
      throw new Error('pool close failed');
    });
    expect(coordinator.started).toBe(false);
    const first = coordinator.shutdown('test');
    const second = coordinator.shutdown('again');
    expect(coordinator.started).toBe(true);
    await Promise.all([first, second]);
    expect(order).toEqual(['readiness', 'drained', 'close pool', 'close redis']);
    expect(logger.entries.map((e) => e.msg)).toEqual([
      'shutting down: readiness is now 503, draining in-flight requests',
      'onShutdown hook failed',
      'shutdown complete',
    ]);
  });

  it('waits drainDelayMs before closing', async () => {
    let drainedAt = 0;
    const started = Date.now();
    const coordinator = new ShutdownCoordinator(
      { stopReadiness: () => undefined, drain: async () => void (drainedAt = Date.now()), forceClose: () => undefined },
      { timeoutMs: 1_000, drainDelayMs: 80, logger: recordingLogger() },
    );
    await coordinator.shutdown();
    expect(drainedAt - started).toBeGreaterThanOrEqual(75);
  });

  it('force-closes and rejects with ShutdownTimeoutError when draining exceeds the bound', async () => {
    let forced = false;
    const logger = recordingLogger();
    const coordinator = new ShutdownCoordinator(
      {
        stopReadiness: () => undefined,
        drain: () => new Promise(() => undefined),
        forceClose: () => void (forced = true),
      },
      { timeoutMs: 100, logger },
    );
    const started = Date.now();
    await expect(coordinator.shutdown()).rejects.toBeInstanceOf(ShutdownTimeoutError);
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(forced).toBe(true);
    expect(logger.entries.at(-1)?.msg).toMatch(/did not finish within 100 ms \(SHUTDOWN_TIMEOUT_MS\)/);
  });

  it('rejects a non-function hook', () => {
    const coordinator = new ShutdownCoordinator(
      { stopReadiness: () => undefined, drain: async () => undefined, forceClose: () => undefined },
      { timeoutMs: 100, logger: recordingLogger() },
    );
    expect(() => coordinator.onShutdown('nope' as never)).toThrow('onShutdown expects a function');
  });
});

describe('installSignalHandlers', () => {
  it('exits 0 after a clean shutdown and 1 at once on a second signal', async () => {
    const exits: number[] = [];
    const reasons: string[] = [];
    let finish: () => void = () => undefined;
    const signals = new EventEmitter();
    const remove = installSignalHandlers(
      (reason) => {
        reasons.push(reason);
        return new Promise<void>((r) => (finish = r));
      },
      { signals: ['SIGTERM', 'SIGINT'], exit: (code) => exits.push(code), logger: recordingLogger(), source: signals },
    );
    try {
      signals.emit('SIGTERM', 'SIGTERM');
      expect(reasons).toEqual(['received SIGTERM']);
      signals.emit('SIGINT', 'SIGINT');
      expect(exits).toEqual([1]);
      finish();
      await new Promise((r) => setImmediate(r));
      expect(exits).toEqual([1, 0]);
    } finally {
      remove();
    }
    expect(signals.listenerCount('SIGTERM') + signals.listenerCount('SIGINT')).toBe(0);
  });

  it('exits 1 when shutdown fails', async () => {
    const exits: number[] = [];
    const logger = recordingLogger();
    const signals = new EventEmitter();
    const remove = installSignalHandlers(() => Promise.reject(new ShutdownTimeoutError(5)), {
      source: signals,
      exit: (code) => exits.push(code),
      logger,
    });
    try {
      signals.emit('SIGTERM', 'SIGTERM');
      await new Promise((r) => setImmediate(r));
      expect(exits).toEqual([1]);
      expect(logger.entries[0].msg).toBe('shutdown failed');
    } finally {
      remove();
    }
  });
});

describe('service.shutdown with real connections', () => {
  /** A route whose requests stay in flight until the test releases them. */
  function gate(count: number) {
    let arrived = 0;
    let allArrived: () => void = () => undefined;
    const arrivedPromise = new Promise<void>((r) => (allArrived = r));
    let release: () => void = () => undefined;
    const released = new Promise<void>((r) => (release = r));
    return {
      handler: async () => {
        if (++arrived === count) allArrived();
        await released;
        return { ok: true };
      },
      allArrived: arrivedPromise,
      release,
    };
  }

  it('turns readiness 503 at once, lets in-flight requests finish, then closes pools', async () => {
    const events: string[] = [];
    const service = await createService({
      name: 'drain-test',
      port: 0,
      logger: false,
      rateLimit: false,
      drainDelayMs: 1_000,
    });
    const slow = gate(3);
    service.app.get('/slow', async () => {
      const body = await slow.handler();
      events.push('slow done');
      return body;
    });
    service.onShutdown(async () => void events.push('pool closed'));
    const url = await service.listen();

    const inFlight = [fetch(`${url}/slow`), fetch(`${url}/slow`), fetch(`${url}/slow`)];
    await slow.allArrived;
    expect(service.isShuttingDown).toBe(false);
    const shutdown = service.shutdown('test');
    expect(service.isShuttingDown).toBe(true);

    const readiness = await fetch(`${url}/health/readiness`);
    expect(readiness.status).toBe(503);
    expect(await readiness.json()).toMatchObject({ status: 'not-ready', failing: ['shutdown'] });
    expect(readiness.headers.get('connection')).toBe('close');
    expect(events).toEqual([]);

    slow.release();
    const responses = await Promise.all(inFlight);
    expect(responses.map((r) => r.status)).toEqual([200, 200, 200]);
    await shutdown;
    expect(events).toEqual(['slow done', 'slow done', 'slow done', 'pool closed']);
    await expect(fetch(`${url}/health/liveness`)).rejects.toThrow();
  });

  it('force-closes a request that outlives shutdownTimeoutMs', async () => {
    const service = await createService({
      name: 'stuck-test',
      port: 0,
      logger: false,
      rateLimit: false,
      shutdownTimeoutMs: 200,
    });
    const stuckRoute = gate(1);
    service.app.get('/stuck', stuckRoute.handler);
    const url = await service.listen();
    const stuck = fetch(`${url}/stuck`).then(
      (r) => r.status,
      (e: Error) => e.message,
    );
    await stuckRoute.allArrived;
    const started = Date.now();
    await expect(service.shutdown()).rejects.toBeInstanceOf(ShutdownTimeoutError);
    expect(Date.now() - started).toBeLessThan(3_000);
    expect(await stuck).toBe('fetch failed');
    stuckRoute.release();
  });

  it('installs SIGTERM/SIGINT handlers once and removes them on shutdown', async () => {
    const before = process.listenerCount('SIGTERM');
    const service = await createService({ name: 'signals-test', logger: false, rateLimit: false });
    service.installSignalHandlers();
    service.installSignalHandlers();
    expect(process.listenerCount('SIGTERM')).toBe(before + 1);
    expect(process.listenerCount('SIGINT')).toBeGreaterThan(0);
    await service.shutdown();
    expect(process.listenerCount('SIGTERM')).toBe(before);
  });
});
