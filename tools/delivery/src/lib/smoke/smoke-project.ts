import { relative } from 'node:path';
import { loadSmokeConfig, locateSmokeProject, type SmokeOverrides } from './config';
import { appendStepSummary, renderConsoleSummary, reportPath, writeReport } from './report';
import { defaultAdapters, runSmoke } from './run-smoke';
import type { ExpectedVersion, ResolvedExpectation, ResolvedSmokeConfig, SmokeAdapters, SmokeReport } from './types';

export interface SmokeProjectOptions {
  workspaceRoot: string;
  project: string;
  environment: string;
  /** The project's root (apps/catalog). Give this or `projects`. */
  projectRoot?: string;
  /** Nx projects by name (e.g. from the executor context), to find the root and reject unknown names. */
  projects?: Record<string, { root: string }>;
  /** What must be answering: `{ version, revision }` from the release being deployed. */
  expect?: ExpectedVersion | ResolvedExpectation | null;
  overrides?: SmokeOverrides;
  /** Smoke.json path when not <projectRoot>/smoke.json. */
  configFile?: string;
  env?: NodeJS.ProcessEnv;
  adapters?: Partial<SmokeAdapters>;
  /** Reports go to <reportDir>/<environment>/<project>.json (default dist/smoke). */
  reportDir?: string;
  /** Markdown summary target; defaults to env.GITHUB_STEP_SUMMARY; null to skip. */
  stepSummaryFile?: string | null;
}

export interface SmokeProjectResult {
  report: SmokeReport;
  /** Absolute path of the JSON report. */
  reportFile: string;
}

/**
 * Load → validate → run → write, for one project in one environment: what the deploy executor calls
 * per deployed project, in process. Configuration problems throw SmokeConfigError before any request
 * and write nothing; otherwise the report is written and returned whatever the outcome.
 */
export async function smokeProject(options: SmokeProjectOptions): Promise<SmokeProjectResult> {
  const env = options.env ?? process.env;
  let projectRoot = options.projectRoot;
  if (options.projects)
    projectRoot = locateSmokeProject(options.project, options.projects, options.workspaceRoot).projectRoot;
  if (projectRoot === undefined) throw new Error('smokeProject needs projectRoot or projects');
  const config = loadSmokeConfig({
    workspaceRoot: options.workspaceRoot,
    project: options.project,
    projectRoot,
    environment: options.environment,
    configFile: options.configFile,
    env,
    overrides: options.overrides,
  });
  return runAndRecord(config, options);
}

/** Runs an already loaded configuration and writes the JSON report, the step summary and the console summary. */
export async function runAndRecord(
  config: ResolvedSmokeConfig,
  options: Pick<SmokeProjectOptions, 'workspaceRoot' | 'expect' | 'adapters' | 'reportDir' | 'stepSummaryFile' | 'env'>,
): Promise<SmokeProjectResult> {
  const env = options.env ?? process.env;
  const adapters = defaultAdapters(options.adapters);
  const report = await runSmoke(config, { expect: options.expect, adapters });
  const reportFile = reportPath(options.workspaceRoot, config.environment, config.project, options.reportDir);
  writeReport(reportFile, report);
  const stepSummaryFile = options.stepSummaryFile === undefined ? env['GITHUB_STEP_SUMMARY'] : options.stepSummaryFile;
  if (stepSummaryFile) appendStepSummary(stepSummaryFile, report);
  adapters.log(
    // Inside the workspace the short relative path; elsewhere (--report-dir=/tmp/...) the absolute one.
    renderConsoleSummary(
      report,
      relative(options.workspaceRoot, reportFile).startsWith('..')
        ? reportFile
        : relative(options.workspaceRoot, reportFile),
    ),
  );
  return { report, reportFile };
}
