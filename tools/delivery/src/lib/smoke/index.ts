/**
 * Smoke verification as a library: the `smoke` executor is a thin shell around these, and the
 * deploy executor calls `smokeProject` (or `loadSmokeConfig` + `runSmoke`) without spawning Nx.
 */
export { smokeProject, runAndRecord, type SmokeProjectOptions, type SmokeProjectResult } from './smoke-project';
export { runSmoke, defaultAdapters, type RunSmokeOptions } from './run-smoke';
export {
  loadSmokeConfig,
  locateSmokeProject,
  resolveK6Binary,
  baseUrlVariable,
  SmokeConfigError,
  SMOKE_CONFIG_FILE,
  type ConfigProblem,
  type LoadSmokeConfigOptions,
  type SmokeOverrides,
} from './config';
export { resolveExpectation, imageRecordPath, type ExpectFrom, type ExpectOptions } from './expect';
export { writeReport, appendStepSummary, renderMarkdown, renderConsoleSummary, renderPlan, reportPath } from './report';
export { realClock, FakeClock } from './clock';
export { createHttpAdapter } from './http-adapter';
export { createK6Runner, createPlaywrightRunner } from './runners';
export type * from './types';
