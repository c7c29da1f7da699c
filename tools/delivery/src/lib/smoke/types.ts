import type { JsonPath } from './json-path';

/** What the service under test must report. Fields absent here are not compared. */
export interface ExpectedVersion {
  version?: string;
  revision?: string;
  /** Any other field mapped in `versionGate.fields` (e.g. a content tag a service reports). */
  [field: string]: string | undefined;
}

export interface ResolvedExpectation {
  fields: ExpectedVersion;
  /** Where the expectation came from, for the report ("--expect-version", "dist/images/catalog.json", ...). */
  source: string;
}

export type Assertion =
  | { kind: 'equals'; path: JsonPath; expected: unknown }
  | { kind: 'exists'; path: JsonPath; expected: boolean }
  | { kind: 'matches'; path: JsonPath; pattern: RegExp }
  | { kind: 'header-equals'; header: string; expected: string }
  | { kind: 'header-exists'; header: string; expected: boolean }
  | { kind: 'header-matches'; header: string; pattern: RegExp };

export interface AnalysisLimits {
  /** Measurements to take. */
  count: number;
  /** Time between the starts of two measurements. */
  intervalMs: number;
  /** Failed measurements tolerated; one more fails the check (Argo Rollouts `failureLimit`). */
  failureLimit: number;
  /** Consecutive errors tolerated; one more makes the check inconclusive (Argo `consecutiveErrorLimit`). */
  consecutiveErrorLimit: number;
}

export interface ResolvedCheck extends AnalysisLimits {
  name: string;
  method: string;
  path: string;
  headers: Record<string, string>;
  /** Header names whose values came from the environment: never printed or written. */
  secretHeaders: string[];
  body?: string;
  expectStatus: number[];
  assertions: Assertion[];
  maxLatencyMs?: number;
}

export interface BackoffOptions {
  initialDelayMs: number;
  maxDelayMs: number;
  factor: number;
  timeoutMs: number;
}

export interface ResolvedReadiness extends BackoffOptions {
  path: string;
}

export interface ResolvedVersionGate extends BackoffOptions {
  path: string;
  fields: Record<string, JsonPath>;
  /** Matching answers needed in a row (more than one lets old replicas behind a load balancer drain). */
  consecutiveMatches: number;
  /** When true, a run without any expected version fails instead of skipping the gate. */
  required: boolean;
}

export interface ResolvedK6 {
  /** Absolute path of the script. */
  script: string;
  /** Absolute path of the k6 binary, resolved at load time so a missing k6 fails before any request. */
  binary: string;
  env: Record<string, string>;
  timeoutMs: number;
}

export interface ResolvedPlaywright {
  /** Absolute path of the Playwright project directory (holds playwright.config.*). */
  dir: string;
  /** Absolute path of Playwright's cli.js. */
  cli: string;
  grep: string;
  timeoutMs: number;
}

/** A fully validated configuration for one project in one environment. Nothing in it is optional at run time. */
export interface ResolvedSmokeConfig {
  project: string;
  environment: string;
  /** Absolute path of the smoke.json it came from. */
  configFile: string;
  baseUrl: string;
  /** Where baseUrl came from ("SMOKE_CATALOG_URL", "--base-url", "smoke.json environments.local"). */
  baseUrlSource: string;
  requestTimeoutMs: number;
  readiness: ResolvedReadiness;
  versionGate: ResolvedVersionGate;
  checks: ResolvedCheck[];
  k6?: ResolvedK6;
  playwright?: ResolvedPlaywright;
}

// ---------------------------------------------------------------------------------------------
// Adapters: the only I/O the run does. Tests swap them; the executor uses the real ones.

export interface Clock {
  /** Milliseconds on a monotonic scale (only differences matter). */
  now(): number;
  sleep(ms: number): Promise<void>;
  /** Wall-clock time for the report. */
  isoNow(): string;
}

export interface HttpRequest {
  method: string;
  url: string;
  headers: Record<string, string>;
  body?: string;
  timeoutMs: number;
}

export type HttpResult =
  | {
      kind: 'response';
      status: number;
      headers: Record<string, string>;
      body: string;
      durationMs: number;
    }
  | {
      kind: 'error';
      /** ECONNREFUSED, ECONNRESET, TIMEOUT, ENOTFOUND, ... */
      code: string;
      message: string;
      durationMs: number;
    };

export interface HttpAdapter {
  request(request: HttpRequest): Promise<HttpResult>;
}

export interface ProcessRunResult {
  exitCode: number | null;
  signal: string | null;
  timedOut: boolean;
  durationMs: number;
  /** The last lines of output, for the report when something goes wrong. */
  outputTail: string;
}

export interface K6RunRequest {
  binary: string;
  script: string;
  baseUrl: string;
  env: Record<string, string>;
  timeoutMs: number;
}

export interface K6Metrics {
  checksRate?: number;
  httpReqFailedRate?: number;
  httpReqDurationP95Ms?: number;
  httpReqs?: number;
  /** Threshold expressions by metric, with whether each one held. */
  thresholds: { metric: string; expression: string; ok: boolean }[];
}

export interface K6RunResult extends ProcessRunResult {
  metrics?: K6Metrics;
}

export interface K6Runner {
  run(request: K6RunRequest): Promise<K6RunResult>;
}

export interface PlaywrightRunRequest {
  cli: string;
  dir: string;
  grep: string;
  baseUrl: string;
  timeoutMs: number;
}

export interface PlaywrightStats {
  expected: number;
  unexpected: number;
  flaky: number;
  skipped: number;
  failedTests: string[];
}

export interface PlaywrightRunResult extends ProcessRunResult {
  stats?: PlaywrightStats;
}

export interface PlaywrightRunner {
  run(request: PlaywrightRunRequest): Promise<PlaywrightRunResult>;
}

/** Why a workload will not become ready: what the cluster adapter saw, already redacted. */
export interface WorkloadFailure {
  /** "exited 1, restarted 3 times", "image not found in the registry". */
  reason: string;
  restarts?: number;
  exitCode?: number;
  oomKilled?: boolean;
  /** The failing container's last log lines (at most 30). */
  logTail: string[];
}

/** The workload's runtime, asked while readiness waits so a crash stops the wait at once. */
export interface WorkloadWatch {
  /** Time between two questions. */
  intervalMs: number;
  /** The failure when the workload is failing; undefined while it is starting or ready. */
  failing(): Promise<WorkloadFailure | undefined>;
}

export interface SmokeAdapters {
  http: HttpAdapter;
  clock: Clock;
  k6: K6Runner;
  playwright: PlaywrightRunner;
  /** Progress lines while the run is going (the summary is printed separately). */
  log: (line: string) => void;
  /** When the caller deployed the service: its runtime's health, so readiness can fail early. */
  workload?: WorkloadWatch;
}

// ---------------------------------------------------------------------------------------------
// Report

export type Outcome = 'pass' | 'fail' | 'inconclusive';
export type StageStatus = Outcome | 'skipped';
export type MeasurementOutcome = 'success' | 'failure' | 'error';

export interface Measurement {
  /** Milliseconds since the run started. */
  atMs: number;
  durationMs: number;
  outcome: MeasurementOutcome;
  statusCode?: number;
  /** Why it failed or errored; absent on success. */
  message?: string;
}

export interface LatencySummary {
  minMs: number;
  medianMs: number;
  maxMs: number;
}

export interface CheckReport {
  name: string;
  method: string;
  path: string;
  status: Outcome;
  message: string;
  durationMs: number;
  limits: AnalysisLimits & { maxLatencyMs?: number };
  counts: { success: number; failure: number; error: number };
  latency?: LatencySummary;
  measurements: Measurement[];
}

export interface StageReport {
  name: 'readiness' | 'version' | 'checks' | 'k6' | 'playwright';
  status: StageStatus;
  message: string;
  durationMs: number;
  /** Poll attempts (readiness, version). */
  attempts?: Measurement[];
  /** What /health reported last (version stage). */
  observed?: Record<string, string | undefined>;
  checks?: CheckReport[];
  k6?: K6Metrics & { exitCode: number | null; script: string };
  playwright?: PlaywrightStats & { exitCode: number | null; grep: string };
  /** Output tail of a runner that failed or errored. */
  outputTail?: string;
  /** Readiness stopped early: the workload was failing (reason, exit, restarts, log tail). */
  workload?: WorkloadFailure;
}

export interface SmokeReport {
  schemaVersion: 1;
  project: string;
  environment: string;
  baseUrl: string;
  outcome: Outcome;
  /** 0 pass, 1 fail, 2 inconclusive: what the CLI exits with. */
  exitCode: 0 | 1 | 2;
  /** One line saying what decided the outcome. */
  summary: string;
  expected: (ResolvedExpectation & { fields: ExpectedVersion }) | null;
  startedAt: string;
  finishedAt: string;
  durationMs: number;
  stages: StageReport[];
}
