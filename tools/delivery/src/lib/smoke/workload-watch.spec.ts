import { FakeClock } from './clock';
import { renderConsoleSummary, renderMarkdown } from './report';
import { runSmoke } from './run-smoke';
import { configFrom } from './testing/config';
import { json, refused, ScriptedHttp, type Responder } from './testing/fakes';
import type { SmokeReport, WorkloadFailure, WorkloadWatch } from './types';

const CRASH: WorkloadFailure = {
  reason: 'exited 1, restarted 3 times',
  restarts: 3,
  exitCode: 1,
  logTail: ['catalog starting', 'invalid configuration: CATALOG_PAYMENT_URL is required'],
};

const raw = {
  readiness: { timeoutMs: 120_000, initialDelayMs: 250, maxDelayMs: 5000, factor: 2 },
  checks: [{ name: 'list', path: '/products', count: 1, intervalMs: 100 }],
};

/** A watch that reports `failure` once the clock reaches `afterMs` (or never), counting its questions. */
function watchFailingAfter(clock: FakeClock, afterMs: number | undefined, failure = CRASH) {
  const asked: number[] = [];
  const watch: WorkloadWatch = {
    intervalMs: 1000,
    async failing() {
      asked.push(clock.now());
      return afterMs !== undefined && clock.now() >= afterMs ? failure : undefined;
    },
  };
  return { watch, asked };
}

async function smoke(responder: Responder, watch: (clock: FakeClock) => WorkloadWatch | undefined) {
  const clock = new FakeClock();
  const http = new ScriptedHttp(clock, responder);
  const lines: string[] = [];
  const workload = watch(clock);
  const report = await runSmoke(configFrom(raw), {
    expect: null,
    adapters: { clock, http, log: (line) => lines.push(line), ...(workload ? { workload } : {}) },
  });
  return { report, http, clock, lines };
}

const readiness = (report: SmokeReport) => report.stages.find((s) => s.name === 'readiness');

describe('readiness with the workload watch', () => {
  it('fails as soon as the workload is failing, with its reason and log tail, without waiting out the timeout', async () => {
    let watched: ReturnType<typeof watchFailingAfter> | undefined;
    const { report, http } = await smoke(
      () => refused(),
      (clock) => (watched = watchFailingAfter(clock, 3000)).watch,
    );
    expect(report.outcome).toBe('fail');
    expect(report.exitCode).toBe(1);
    const stage = readiness(report);
    expect(stage).toMatchObject({ status: 'fail', workload: CRASH });
    expect(stage?.message).toMatch(
      /^workload failing after \d+(\.\d)? s \(\d+ probes?\): exited 1, restarted 3 times$/,
    );
    expect(stage?.durationMs).toBeLessThan(10_000);
    expect(report.summary).toContain('exited 1, restarted 3 times');
    expect(report.stages.find((s) => s.name === 'checks')).toMatchObject({ status: 'skipped' });
    // The probe stops once the verdict is in: no request after the failing answer (one in flight at most).
    const failedAt = watched?.asked.find((at) => at >= 3000) ?? 0;
    expect(http.requests.filter((r) => r.atMs > failedAt + 5000)).toEqual([]);
  });

  it('passes as before when the workload is healthy: the watch changes nothing', async () => {
    const { report } = await smoke(
      (request, call) =>
        new URL(request.url).pathname === '/health/readiness' && call < 2 ? refused() : json(200, { status: 'ready' }),
      (clock) => watchFailingAfter(clock, undefined).watch,
    );
    expect(report.outcome).toBe('pass');
    expect(readiness(report)?.workload).toBeUndefined();
  });

  it('looks once more when the probe passes: a workload that answered and then crashed fails', async () => {
    let calls = 0;
    const { report } = await smoke(
      () => json(200, { status: 'ready' }),
      () => ({
        intervalMs: 1000,
        failing: async () => (++calls > 1 ? CRASH : undefined),
      }),
    );
    expect(calls).toBeGreaterThanOrEqual(2);
    expect(report.outcome).toBe('fail');
    expect(readiness(report)).toMatchObject({ status: 'fail', workload: CRASH });
    expect(readiness(report)?.message).toMatch(/although \/health\/readiness answered: exited 1, restarted 3 times$/);
  });

  it('a watch that cannot ask (runtime unreachable) is logged once and leaves the verdict to the probe', async () => {
    const { report, lines } = await smoke(
      () => refused(),
      () => ({
        intervalMs: 1000,
        failing: async () => {
          throw new Error('podman: connection refused');
        },
      }),
    );
    expect(report.outcome).toBe('inconclusive');
    expect(readiness(report)?.message).toMatch(/no answer from .* ECONNREFUSED/);
    expect(lines.filter((l) => l.includes('could not ask (podman: connection refused)'))).toHaveLength(1);
  });

  it('without a watch (smoke run on its own) readiness waits out its timeout as before', async () => {
    const { report } = await smoke(
      () => refused(),
      () => undefined,
    );
    expect(report.outcome).toBe('inconclusive');
    expect(readiness(report)?.durationMs).toBeGreaterThanOrEqual(120_000);
  });

  it('the console summary and the step summary show the reason and the log tail', async () => {
    const { report } = await smoke(
      () => refused(),
      (clock) => watchFailingAfter(clock, 0).watch,
    );
    const console = renderConsoleSummary(report);
    expect(console).toContain('exited 1, restarted 3 times');
    expect(console).toContain('      | invalid configuration: CATALOG_PAYMENT_URL is required');
    const markdown = renderMarkdown(report);
    expect(markdown).toContain(
      '````text\ncatalog starting\ninvalid configuration: CATALOG_PAYMENT_URL is required\n````',
    );
  });
});
