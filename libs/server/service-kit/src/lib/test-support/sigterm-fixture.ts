/**
 * A small real service for the SIGTERM integration test, run as its own Node process.
 * Configured like a production service: baseConfig from the environment, signal handlers installed.
 * Writes `{"fixtureEvent": ...}` lines on stdout next to the service's JSON logs.
 */
import { baseConfig, defineConfig, loadConfig } from '../config.js';
import { createService, serviceOptionsFromConfig } from '../service.js';

function emit(event: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify({ fixtureEvent: event['event'], ...event })}\n`);
}

async function main(): Promise<void> {
  const config = loadConfig(
    defineConfig({
      ...baseConfig,
      SLOW_MS: { type: 'duration-ms', default: 1_000 },
    }),
  );
  const service = await createService(serviceOptionsFromConfig('sigterm-fixture', config));
  let started = 0;
  let completed = 0;
  service.app.get('/slow', async () => {
    emit({ event: 'request-started', started: ++started });
    await new Promise((r) => setTimeout(r, config.SLOW_MS));
    completed++;
    return { ok: true };
  });
  // Stands in for closing a database pool: must run after every in-flight request finished.
  service.onShutdown(async () => emit({ event: 'pool-closed', completed }));
  service.installSignalHandlers();
  const url = await service.listen();
  emit({ event: 'listening', url });
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(2);
});
