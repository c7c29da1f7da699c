export type ShutdownHook = () => Promise<void>;

export interface ShutdownLogger {
  info(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export class ShutdownTimeoutError extends Error {
  constructor(timeoutMs: number) {
    super(`shutdown did not finish within ${timeoutMs} ms (SHUTDOWN_TIMEOUT_MS); connections were force-closed`);
    this.name = 'ShutdownTimeoutError';
  }
}

export interface ShutdownSteps {
  /** Synchronous, first: flips readiness to 503 so load balancers stop routing here. */
  stopReadiness(): void;
  /** Stop accepting connections and resolve once in-flight requests have finished. */
  drain(): Promise<void>;
  /** Called when the bound is hit: cut whatever is still open. */
  forceClose(): void;
}

export interface ShutdownOptions {
  timeoutMs: number;
  /** Keep serving (with readiness already 503) this long before closing, so endpoints get updated. */
  drainDelayMs?: number;
  logger: ShutdownLogger;
}

/**
 * Orders a graceful stop: readiness off, optional delay, drain in-flight requests, then run the
 * onShutdown hooks (pools, clients) last-registered first — all bounded by `timeoutMs`.
 */
export class ShutdownCoordinator {
  private readonly hooks: ShutdownHook[] = [];
  private running?: Promise<void>;

  constructor(
    private readonly steps: ShutdownSteps,
    private readonly options: ShutdownOptions,
  ) {}

  onShutdown(hook: ShutdownHook): void {
    if (typeof hook !== 'function') throw new TypeError('onShutdown expects a function returning a promise');
    this.hooks.push(hook);
  }

  get started(): boolean {
    return this.running !== undefined;
  }

  /** Idempotent: a second call (second signal, test teardown) joins the first. */
  shutdown(reason = 'shutdown requested'): Promise<void> {
    this.running ??= this.run(reason);
    return this.running;
  }

  private async run(reason: string): Promise<void> {
    const { timeoutMs, logger } = this.options;
    const started = Date.now();
    this.steps.stopReadiness();
    logger.info({ reason, timeoutMs }, 'shutting down: readiness is now 503, draining in-flight requests');

    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), timeoutMs);
    });
    try {
      const outcome = await Promise.race([this.drainAndClose(), deadline]);
      if (outcome === 'timeout') {
        this.steps.forceClose();
        const error = new ShutdownTimeoutError(timeoutMs);
        logger.error({ reason, timeoutMs }, error.message);
        throw error;
      }
      logger.info({ reason, durationMs: Date.now() - started }, 'shutdown complete');
    } finally {
      clearTimeout(timer);
    }
  }

  private async drainAndClose(): Promise<'done'> {
    if (this.options.drainDelayMs) await new Promise((r) => setTimeout(r, this.options.drainDelayMs));
    await this.steps.drain();
    for (const hook of [...this.hooks].reverse()) {
      try {
        await hook();
      } catch (error) {
        // One failing close must not keep the others (and the exit) from happening.
        this.options.logger.error({ err: error }, 'onShutdown hook failed');
      }
    }
    return 'done';
  }
}

export interface SignalHandlerOptions {
  signals?: NodeJS.Signals[];
  /** Injected for tests; defaults to process.exit. */
  exit?: (code: number) => void;
  /** Where signals are received; defaults to process. */
  source?: Pick<NodeJS.EventEmitter, 'on' | 'off'>;
  logger: ShutdownLogger;
}

/**
 * On the first signal: shutdown, then exit 0 (1 if shutdown failed or timed out). A second signal
 * exits 1 at once — the operator asked twice. Returns a function that removes the handlers.
 */
export function installSignalHandlers(
  shutdown: (reason: string) => Promise<void>,
  options: SignalHandlerOptions,
): () => void {
  const exit = options.exit ?? ((code: number) => process.exit(code));
  const signals = options.signals ?? ['SIGTERM', 'SIGINT'];
  let received = false;

  const handler = (signal: NodeJS.Signals) => {
    if (received) {
      options.logger.error({ signal }, 'second signal received: exiting immediately');
      exit(1);
      return;
    }
    received = true;
    shutdown(`received ${signal}`).then(
      () => exit(0),
      (error: unknown) => {
        options.logger.error({ err: error, signal }, 'shutdown failed');
        exit(1);
      },
    );
  };
  const source = options.source ?? process;
  for (const signal of signals) source.on(signal, handler);
  return () => {
    for (const signal of signals) source.off(signal, handler);
  };
}
