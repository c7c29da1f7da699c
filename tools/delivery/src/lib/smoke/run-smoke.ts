import { assessAnalysis, describeCounts, emptyAnalysis, recordMeasurement, type AnalysisState } from './analysis';
import { recordFile } from '../image/record';
import { consoleOutput } from '../shared/output';
import { pollWithBackoff } from './backoff';
import { realClock } from './clock';
import { SmokeConfigError } from './config';
import { evaluateCheckResult } from './evaluate';
import { formatMs, joinUrl, roundMs } from './format';
import { applicableExpectation, describeVersion, readObserved, versionMatches } from './expect';
import { createHttpAdapter } from './http-adapter';
import { createK6Runner, createPlaywrightRunner, K6_THRESHOLDS_FAILED } from './runners';
import { watchForFailure } from './workload-watch';
import type {
  CheckReport,
  ExpectedVersion,
  HttpResult,
  K6Metrics,
  LatencySummary,
  Measurement,
  Outcome,
  ResolvedCheck,
  ResolvedExpectation,
  ResolvedSmokeConfig,
  SmokeAdapters,
  SmokeReport,
  StageReport,
  WorkloadFailure,
} from './types';

export interface RunSmokeOptions {
  /**
   * The version the service must report. The deploy executor passes what it just deployed, e.g.
   * `{ version: '1.4.0', revision: '<sha>' }` (or a ResolvedExpectation with its source).
   * null/undefined: no version gate (a failure when the config marks the gate required).
   */
  expect?: ExpectedVersion | ResolvedExpectation | null;
  adapters?: Partial<SmokeAdapters>;
}

/** The real adapters: node:http, the monotonic clock, k6 and Playwright as child processes, console. */
export function defaultAdapters(overrides: Partial<SmokeAdapters> = {}): SmokeAdapters {
  const clock = overrides.clock ?? realClock;
  const log = overrides.log ?? consoleOutput.log;
  return {
    clock,
    log,
    http: overrides.http ?? createHttpAdapter(clock),
    k6: overrides.k6 ?? createK6Runner(undefined, (line) => log(`  k6 | ${line}`)),
    playwright: overrides.playwright ?? createPlaywrightRunner(undefined, (line) => log(`  playwright | ${line}`)),
    ...(overrides.workload ? { workload: overrides.workload } : {}),
  };
}

/**
 * The smoke run: readiness → version gate → HTTP checks → k6 → Playwright. Each stage runs only if
 * the ones before it passed (or were skipped by configuration); the first stage that fails or is
 * inconclusive decides the outcome. Never throws for what the service does: every answer, error and
 * timeout ends up in the report. Throws SmokeConfigError (before any request) when the expectation
 * names a field the service's health payload is not configured to report.
 */
export async function runSmoke(config: ResolvedSmokeConfig, options: RunSmokeOptions = {}): Promise<SmokeReport> {
  const adapters = defaultAdapters(options.adapters);
  const { clock, log } = adapters;
  const expectation = normaliseExpectation(options.expect);
  const applicable = applicableExpectation(expectation, config.versionGate.fields);
  if (applicable && Object.keys(applicable.fields).length === 0) {
    throw new SmokeConfigError([
      {
        where: 'expect',
        message: `the expected ${Object.keys(expectation?.fields ?? {}).join(', ')} cannot be compared: ${config.project}'s versionGate.fields maps only ${Object.keys(config.versionGate.fields).join(', ')}. Add a JSON path for the field, or expect version/revision`,
      },
    ]);
  }

  const startedAt = clock.isoNow();
  const t0 = clock.now();
  const at = (): number => roundMs(clock.now() - t0);
  const stages: StageReport[] = [];
  const canContinue = (): boolean => stages.every((stage) => stage.status === 'pass' || stage.status === 'skipped');
  const skip = (name: StageReport['name'], why: string): void => {
    stages.push({ name, status: 'skipped', message: why, durationMs: 0 });
  };

  log(`smoke ${config.project}@${config.environment} → ${config.baseUrl}`);

  // (1) readiness
  stages.push(await readinessStage(config, adapters, at));

  // (2) version gate
  if (!canContinue()) skip('version', 'not run: the service is not ready');
  else if (!applicable) {
    stages.push(
      config.versionGate.required
        ? {
            name: 'version',
            status: 'fail',
            message: `no expected version: versionGate.required is set for ${config.environment}; pass --expect-version/--expect-revision or build ${recordFile(config.project)}`,
            durationMs: 0,
          }
        : {
            name: 'version',
            status: 'skipped',
            message: 'no expected version given (--expect-version, image record or deploy)',
            durationMs: 0,
          },
    );
  } else {
    stages.push(await versionStage(config, adapters, applicable.fields, applicable.dropped, at));
  }

  // (3) HTTP checks
  if (!canContinue()) skip('checks', `not run: ${blockingStage(stages)}`);
  else if (config.checks.length === 0) skip('checks', 'no checks configured');
  else stages.push(await checksStage(config, adapters, at));

  // (4) k6
  if (!config.k6) skip('k6', 'not configured');
  else if (!canContinue()) skip('k6', `not run: ${blockingStage(stages)}`);
  else stages.push(await k6Stage(config, adapters));

  // (5) Playwright @smoke
  if (!config.playwright) skip('playwright', 'not configured');
  else if (!canContinue()) skip('playwright', `not run: ${blockingStage(stages)}`);
  else stages.push(await playwrightStage(config, adapters));

  const decisive =
    stages.find((stage) => stage.status === 'fail') ?? stages.find((stage) => stage.status === 'inconclusive');
  const outcome: Outcome = decisive ? (decisive.status as Outcome) : 'pass';
  const summary = decisive
    ? `${decisive.name}: ${decisive.message}`
    : stages
        .filter((stage) => stage.status === 'pass')
        .map((stage) => `${stage.name}: ${stage.message}`)
        .join('; ');
  return {
    schemaVersion: 1,
    project: config.project,
    environment: config.environment,
    baseUrl: config.baseUrl,
    outcome,
    exitCode: outcome === 'pass' ? 0 : outcome === 'fail' ? 1 : 2,
    summary,
    expected: expectation,
    startedAt,
    finishedAt: clock.isoNow(),
    durationMs: roundMs(clock.now() - t0),
    stages,
  };
}

function normaliseExpectation(expect: RunSmokeOptions['expect']): ResolvedExpectation | null {
  if (!expect) return null;
  if (typeof expect['source'] === 'string' && typeof (expect as ResolvedExpectation).fields === 'object')
    return expect as ResolvedExpectation;
  const fields: ExpectedVersion = {};
  for (const [key, value] of Object.entries(expect as ExpectedVersion))
    if (typeof value === 'string' && value) fields[key] = value;
  return Object.keys(fields).length ? { fields, source: 'caller' } : null;
}

function blockingStage(stages: StageReport[]): string {
  const blocking = stages.find((stage) => stage.status === 'fail' || stage.status === 'inconclusive');
  return blocking ? `${blocking.name} was ${blocking.status}` : 'an earlier stage did not pass';
}

interface ReadinessPoll {
  measurement: Measurement;
  /** What the service answered, when it answered at all. */
  answer?: string;
}

/** One readiness probe, logged and added to `measured`: done when the service answers 2xx. */
async function probeReadiness(
  url: string,
  config: ResolvedSmokeConfig,
  adapters: SmokeAdapters,
  atMs: number,
  remaining: number,
  measured: Measurement[],
): Promise<{ done: boolean; value: ReadinessPoll }> {
  const { http, log } = adapters;
  const result = await http.request({
    method: 'GET',
    url,
    headers: { accept: 'application/json' },
    timeoutMs: Math.min(config.requestTimeoutMs, remaining),
  });
  const durationMs = roundMs(result.durationMs);
  if (result.kind === 'error') {
    log(`  readiness: ${result.code} (${formatMs(result.durationMs)})`);
    const measurement: Measurement = {
      atMs,
      durationMs,
      outcome: 'error',
      message: `${result.code}: ${result.message}`,
    };
    measured.push(measurement);
    return { done: false, value: { measurement } };
  }
  const ready = result.status >= 200 && result.status < 300;
  const answer = describeReadinessAnswer(result);
  log(`  readiness: ${answer} (${formatMs(result.durationMs)})`);
  const measurement: Measurement = {
    atMs,
    durationMs,
    outcome: ready ? 'success' : 'failure',
    statusCode: result.status,
    message: ready ? undefined : answer,
  };
  measured.push(measurement);
  return { done: ready, value: { measurement, answer } };
}

/** The verdict of a finished poll: ready, answered but never ready (fail), or never answered. */
function readinessVerdict(
  config: ResolvedSmokeConfig,
  url: string,
  poll: { done: boolean; attempts: ReadinessPoll[] },
  durationMs: number,
): StageReport {
  const attempts = poll.attempts.map((a) => a.measurement);
  const n = `${attempts.length} attempt${attempts.length === 1 ? '' : 's'}`;
  if (poll.done)
    return {
      name: 'readiness',
      status: 'pass',
      message: `ready after ${formatMs(durationMs)} (${n})`,
      durationMs,
      attempts,
    };
  const lastAnswer = [...poll.attempts].reverse().find((a) => a.answer !== undefined);
  if (lastAnswer) {
    return {
      name: 'readiness',
      status: 'fail',
      message: `not ready after ${formatMs(durationMs)} (${n}, timeout ${formatMs(config.readiness.timeoutMs)}): ${config.readiness.path} last answered ${lastAnswer.answer}`,
      durationMs,
      attempts,
    };
  }
  const last = attempts[attempts.length - 1];
  return {
    name: 'readiness',
    status: 'inconclusive',
    message: `no answer from ${url} after ${formatMs(durationMs)} (${n}, timeout ${formatMs(config.readiness.timeoutMs)}): ${last?.message ?? 'no attempt'}`,
    durationMs,
    attempts,
  };
}

async function readinessStage(
  config: ResolvedSmokeConfig,
  adapters: SmokeAdapters,
  at: () => number,
): Promise<StageReport> {
  const { clock, log } = adapters;
  const url = joinUrl(config.baseUrl, config.readiness.path);
  const started = clock.now();
  // The workload's runtime is asked alongside the probe: a crash ends the wait with its reason.
  let finished = false;
  const measured: Measurement[] = [];
  const watching: Promise<WorkloadFailure | undefined> = adapters.workload
    ? watchForFailure(adapters.workload, clock, () => finished, log)
    : new Promise<undefined>(() => undefined);
  // Not an async wrapper: the probe's promise is the attempt itself, so the race with the watch
  // below sees the probe's answer in the same turn as before the probe became its own function.
  const polling = pollWithBackoff<ReadinessPoll>(clock, config.readiness, (remaining) =>
    finished
      ? Promise.resolve({ done: true, value: { measurement: { atMs: at(), durationMs: 0, outcome: 'error' } } })
      : probeReadiness(url, config, adapters, at(), remaining, measured),
  );
  type Poll = Awaited<typeof polling>;
  const first = await Promise.race<Poll | WorkloadFailure>([
    polling,
    watching.then<Poll | WorkloadFailure>((failure) => failure ?? polling),
  ]);
  finished = true;
  if ('reason' in first) {
    const durationMs = roundMs(clock.now() - started);
    return {
      name: 'readiness',
      status: 'fail',
      message: `workload failing after ${formatMs(durationMs)} (${measured.length} probe${measured.length === 1 ? '' : 's'}): ${first.reason}`,
      durationMs,
      attempts: measured,
      workload: first,
    };
  }
  // One last look once the probe passed: a workload that answered and crashed right after is
  // caught here, and the runtime records its health with the service up.
  const afterReady =
    first.done && adapters.workload ? await adapters.workload.failing().catch(() => undefined) : undefined;
  if (afterReady) {
    const durationMs = roundMs(clock.now() - started);
    return {
      name: 'readiness',
      status: 'fail',
      message: `workload failing after ${formatMs(durationMs)}, although ${config.readiness.path} answered: ${afterReady.reason}`,
      durationMs,
      attempts: measured,
      workload: afterReady,
    };
  }
  return readinessVerdict(config, url, first, roundMs(clock.now() - started));
}

/** "503 not-ready (failing: db)" from a service-kit readiness payload; "503" plus a snippet otherwise. */
function describeReadinessAnswer(result: Extract<HttpResult, { kind: 'response' }>): string {
  try {
    const body = JSON.parse(result.body) as {
      status?: unknown;
      failing?: unknown;
    };
    const parts = [String(result.status)];
    if (typeof body.status === 'string') parts.push(body.status);
    if (Array.isArray(body.failing) && body.failing.length) parts.push(`(failing: ${body.failing.join(', ')})`);
    return parts.join(' ');
  } catch {
    const snippet = result.body.trim().replace(/\s+/g, ' ').slice(0, 80);
    return snippet ? `${result.status} ${snippet}` : String(result.status);
  }
}

/** What the version gate's polls came to: pass, a mismatch, an unreadable version, or no answer. */
function versionVerdict(v: {
  gate: ResolvedSmokeConfig['versionGate'];
  url: string;
  attempts: Measurement[];
  done: boolean;
  durationMs: number;
  want: string;
  keys: string[];
  dropped: string[];
  lastObserved?: Record<string, string | undefined>;
  lastMismatch?: Record<string, string | undefined>;
  lastProblem?: string;
}): StageReport {
  const { gate, url, attempts, durationMs, want, keys, dropped, lastObserved, lastMismatch, lastProblem } = v;
  const n = `${attempts.length} poll${attempts.length === 1 ? '' : 's'}`;
  const notCompared = dropped.length ? `; not compared: ${dropped.join(', ')} (not in versionGate.fields)` : '';
  if (v.done) {
    return {
      name: 'version',
      status: 'pass',
      message: `serving ${describeVersion(lastObserved ?? {}, keys)} as expected (${n}, ${formatMs(durationMs)})${notCompared}`,
      durationMs,
      attempts,
      observed: lastObserved,
    };
  }
  if (lastMismatch) {
    return {
      name: 'version',
      status: 'fail',
      message: `still serving ${describeVersion(lastMismatch, keys)}, expected ${want} after ${formatMs(durationMs)} (${n}, timeout ${formatMs(gate.timeoutMs)})`,
      durationMs,
      attempts,
      observed: lastMismatch,
    };
  }
  if (lastProblem) {
    return {
      name: 'version',
      status: 'fail',
      message: `could not read the version, expected ${want}: ${lastProblem} (${n}, ${formatMs(durationMs)})`,
      durationMs,
      attempts,
    };
  }
  if (lastObserved) {
    // Matched at least once but never the required number of times in a row.
    return {
      name: 'version',
      status: 'fail',
      message: `${want} answered but not ${gate.consecutiveMatches} times in a row within ${formatMs(gate.timeoutMs)} (${n})`,
      durationMs,
      attempts,
      observed: lastObserved,
    };
  }
  return {
    name: 'version',
    status: 'inconclusive',
    message: `no answer from ${url} after ${formatMs(durationMs)} (${n}): ${attempts[attempts.length - 1]?.message ?? 'no attempt'}`,
    durationMs,
    attempts,
  };
}

async function versionStage(
  config: ResolvedSmokeConfig,
  adapters: SmokeAdapters,
  expected: ExpectedVersion,
  dropped: string[],
  at: () => number,
): Promise<StageReport> {
  const { clock, http, log } = adapters;
  const gate = config.versionGate;
  const url = joinUrl(config.baseUrl, gate.path);
  const keys = Object.keys(expected);
  const want = describeVersion(expected, keys);
  const started = clock.now();
  let streak = 0;
  let lastObserved: Record<string, string | undefined> | undefined;
  let lastMismatch: Record<string, string | undefined> | undefined;
  let lastProblem: string | undefined;
  interface Poll {
    measurement: Measurement;
    matched: boolean;
  }
  const poll = await pollWithBackoff<Poll>(
    clock,
    gate,
    async (remaining) => {
      const atMs = at();
      const result = await http.request({
        method: 'GET',
        url,
        headers: { accept: 'application/json' },
        timeoutMs: Math.min(config.requestTimeoutMs, remaining),
      });
      const durationMs = roundMs(result.durationMs);
      if (result.kind === 'error') {
        streak = 0;
        log(`  version: ${result.code} (${formatMs(result.durationMs)})`);
        return {
          done: false,
          value: {
            matched: false,
            measurement: {
              atMs,
              durationMs,
              outcome: 'error',
              message: `${result.code}: ${result.message}`,
            },
          },
        };
      }
      let document: unknown;
      try {
        document = JSON.parse(result.body);
      } catch {
        document = undefined;
      }
      if (result.status < 200 || result.status >= 300 || document === undefined) {
        streak = 0;
        lastProblem = `${gate.path} answered ${result.status}${document === undefined ? ' without JSON' : ''}`;
        log(`  version: ${lastProblem}`);
        return {
          done: false,
          value: {
            matched: false,
            measurement: {
              atMs,
              durationMs,
              outcome: 'failure',
              statusCode: result.status,
              message: lastProblem,
            },
          },
        };
      }
      const observed = readObserved(document, gate.fields);
      lastObserved = observed;
      const matched = versionMatches(expected, observed);
      streak = matched ? streak + 1 : 0;
      if (!matched) lastMismatch = observed;
      const seen = describeVersion(observed, keys);
      log(
        `  version: serving ${seen}${matched ? '' : `, expected ${want}`}${matched && gate.consecutiveMatches > 1 ? ` (${streak}/${gate.consecutiveMatches})` : ''}`,
      );
      return {
        done: streak >= gate.consecutiveMatches,
        value: {
          matched,
          measurement: {
            atMs,
            durationMs,
            outcome: matched ? 'success' : 'failure',
            statusCode: result.status,
            message: matched ? undefined : `serving ${seen}`,
          },
        },
      };
    },
    // Confirmation polls for consecutiveMatches restart at the initial delay instead of backing off.
    (value) => value.matched,
  );
  return versionVerdict({
    gate,
    url,
    attempts: poll.attempts.map((a) => a.measurement),
    done: poll.done,
    durationMs: roundMs(clock.now() - started),
    want,
    keys,
    dropped,
    lastObserved,
    lastMismatch,
    lastProblem,
  });
}

async function checksStage(
  config: ResolvedSmokeConfig,
  adapters: SmokeAdapters,
  at: () => number,
): Promise<StageReport> {
  const started = adapters.clock.now();
  const checks: CheckReport[] = [];
  for (const check of config.checks) checks.push(await runCheck(config, check, adapters, at));
  const durationMs = roundMs(adapters.clock.now() - started);
  const failed = checks.filter((c) => c.status === 'fail');
  const inconclusive = checks.filter((c) => c.status === 'inconclusive');
  const status: Outcome = failed.length ? 'fail' : inconclusive.length ? 'inconclusive' : 'pass';
  const message =
    status === 'pass'
      ? `${checks.length} check${checks.length === 1 ? '' : 's'} passed`
      : [...failed, ...inconclusive]
          .map((c) => `"${c.name}" ${c.status === 'fail' ? 'failed' : 'inconclusive'}: ${c.message}`)
          .join('; ');
  return { name: 'checks', status, message, durationMs, checks };
}

/** One check: `count` measurements `intervalMs` apart (start to start), stopped early once decided. */
export async function runCheck(
  config: ResolvedSmokeConfig,
  check: ResolvedCheck,
  adapters: SmokeAdapters,
  at: () => number,
): Promise<CheckReport> {
  const { clock, http, log } = adapters;
  const url = joinUrl(config.baseUrl, check.path);
  const measurements: Measurement[] = [];
  let state: AnalysisState = emptyAnalysis();
  const started = clock.now();
  let assessment = assessAnalysis(state, check);
  while (!assessment.decided) {
    const measurementStart = clock.now();
    const atMs = at();
    const result = await http.request({
      method: check.method,
      url,
      headers: {
        accept: 'application/json',
        'x-request-id': `smoke-${config.project}-${measurements.length + 1}`,
        ...check.headers,
      },
      body: check.body,
      timeoutMs: config.requestTimeoutMs,
    });
    const evaluation = evaluateCheckResult(check, result);
    measurements.push({
      atMs,
      durationMs: roundMs(result.durationMs),
      outcome: evaluation.outcome,
      statusCode: evaluation.statusCode,
      message: evaluation.message,
    });
    state = recordMeasurement(state, evaluation.outcome);
    assessment = assessAnalysis(state, check);
    if (!assessment.decided) {
      const wait = check.intervalMs - (clock.now() - measurementStart);
      if (wait > 0) await clock.sleep(wait);
    }
  }
  const durationMs = roundMs(clock.now() - started);
  const latency = latencySummary(measurements.filter((m) => m.outcome !== 'error').map((m) => m.durationMs));
  const lastProblem = [...measurements].reverse().find((m) => m.message)?.message;
  const message =
    assessment.outcome === 'pass'
      ? describeCounts(state)
      : `${assessment.reason}${lastProblem ? `; last: ${lastProblem}` : ''}`;
  log(`  check "${check.name}": ${assessment.outcome} (${describeCounts(state)}, ${formatMs(durationMs)})`);
  return {
    name: check.name,
    method: check.method,
    path: check.path,
    status: assessment.outcome,
    message,
    durationMs,
    limits: {
      count: check.count,
      intervalMs: check.intervalMs,
      failureLimit: check.failureLimit,
      consecutiveErrorLimit: check.consecutiveErrorLimit,
      maxLatencyMs: check.maxLatencyMs,
    },
    counts: {
      success: state.success,
      failure: state.failure,
      error: state.error,
    },
    latency,
    measurements,
  };
}

async function k6Stage(config: ResolvedSmokeConfig, adapters: SmokeAdapters): Promise<StageReport> {
  const k6 = config.k6 as NonNullable<ResolvedSmokeConfig['k6']>;
  adapters.log(`  k6: running ${k6.script}`);
  const result = await adapters.k6.run({
    binary: k6.binary,
    script: k6.script,
    baseUrl: config.baseUrl,
    env: k6.env,
    timeoutMs: k6.timeoutMs,
  });
  const durationMs = roundMs(result.durationMs);
  const details = {
    ...(result.metrics ?? { thresholds: [] }),
    exitCode: result.exitCode,
    script: k6.script,
  };
  const figures = describeK6(result.metrics);
  if (result.timedOut) {
    return {
      name: 'k6',
      status: 'inconclusive',
      message: `k6 did not finish within ${formatMs(k6.timeoutMs)}`,
      durationMs,
      k6: details,
      outputTail: result.outputTail,
    };
  }
  if (result.exitCode === 0)
    return {
      name: 'k6',
      status: 'pass',
      message: `thresholds held${figures}`,
      durationMs,
      k6: details,
    };
  if (result.exitCode === K6_THRESHOLDS_FAILED) {
    const crossed = (result.metrics?.thresholds ?? []).filter((t) => !t.ok).map((t) => `${t.metric} ${t.expression}`);
    return {
      name: 'k6',
      status: 'fail',
      message: `thresholds crossed: ${crossed.join(', ') || 'see output'}${figures}`,
      durationMs,
      k6: details,
      outputTail: result.outputTail,
    };
  }
  // Any other exit (script error, bad options, killed) says nothing about the service.
  return {
    name: 'k6',
    status: 'inconclusive',
    message: `k6 exited with code ${result.exitCode ?? 'none'} before judging the service: ${lastLine(result.outputTail)}`,
    durationMs,
    k6: details,
    outputTail: result.outputTail,
  };
}

function describeK6(metrics: K6Metrics | undefined): string {
  if (!metrics) return '';
  const parts: string[] = [];
  if (metrics.httpReqs !== undefined) parts.push(`${metrics.httpReqs} requests`);
  if (metrics.checksRate !== undefined) parts.push(`checks ${(metrics.checksRate * 100).toFixed(2)}%`);
  if (metrics.httpReqFailedRate !== undefined) parts.push(`failed ${(metrics.httpReqFailedRate * 100).toFixed(2)}%`);
  if (metrics.httpReqDurationP95Ms !== undefined) parts.push(`p95 ${metrics.httpReqDurationP95Ms.toFixed(1)} ms`);
  return parts.length ? ` (${parts.join(', ')})` : '';
}

async function playwrightStage(config: ResolvedSmokeConfig, adapters: SmokeAdapters): Promise<StageReport> {
  const pw = config.playwright as NonNullable<ResolvedSmokeConfig['playwright']>;
  adapters.log(`  playwright: ${pw.grep} tests in ${pw.dir}`);
  const result = await adapters.playwright.run({
    cli: pw.cli,
    dir: pw.dir,
    grep: pw.grep,
    baseUrl: config.baseUrl,
    timeoutMs: pw.timeoutMs,
  });
  const durationMs = roundMs(result.durationMs);
  const stats = result.stats;
  const details = stats ? { ...stats, exitCode: result.exitCode, grep: pw.grep } : undefined;
  if (result.timedOut) {
    return {
      name: 'playwright',
      status: 'inconclusive',
      message: `Playwright did not finish within ${formatMs(pw.timeoutMs)}`,
      durationMs,
      playwright: details,
      outputTail: result.outputTail,
    };
  }
  if (stats && stats.unexpected > 0) {
    return {
      name: 'playwright',
      status: 'fail',
      message: `${stats.unexpected} ${pw.grep} test${stats.unexpected === 1 ? '' : 's'} failed: ${stats.failedTests.join('; ')}`,
      durationMs,
      playwright: details,
      outputTail: result.outputTail,
    };
  }
  if (result.exitCode === 0 && stats && stats.expected + stats.flaky > 0) {
    const flaky = stats.flaky ? `, ${stats.flaky} flaky` : '';
    return {
      name: 'playwright',
      status: 'pass',
      message: `${stats.expected + stats.flaky} ${pw.grep} test${stats.expected + stats.flaky === 1 ? '' : 's'} passed${flaky}`,
      durationMs,
      playwright: details,
    };
  }
  const why =
    stats && stats.expected + stats.flaky + stats.unexpected === 0
      ? `no test matched ${pw.grep}`
      : `Playwright exited with code ${result.exitCode ?? 'none'}`;
  return {
    name: 'playwright',
    status: 'inconclusive',
    message: `${why}: ${lastLine(result.outputTail)}`,
    durationMs,
    playwright: details,
    outputTail: result.outputTail,
  };
}

function latencySummary(durations: number[]): LatencySummary | undefined {
  if (durations.length === 0) return undefined;
  const sorted = [...durations].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  const median = sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
  return {
    minMs: sorted[0],
    medianMs: roundMs(median),
    maxMs: sorted[sorted.length - 1],
  };
}

function lastLine(text: string): string {
  return text.trim().split('\n').filter(Boolean).slice(-1)[0] ?? '(no output)';
}
