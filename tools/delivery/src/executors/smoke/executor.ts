import type { ExecutorContext } from '@nx/devkit';
import { resolve } from 'node:path';
import { loadSmokeConfig, SmokeConfigError } from '../../lib/smoke/config';
import { resolveExpectation } from '../../lib/smoke/expect';
import { renderPlan } from '../../lib/smoke/report';
import { runAndRecord } from '../../lib/smoke/smoke-project';
import type { Outcome, SmokeAdapters } from '../../lib/smoke/types';
import { consoleOutput } from '../../lib/shared/output';
import type { SmokeExecutorSchema } from './schema';

export interface SmokeExecutorResult {
  success: boolean;
  /** 0 pass, 1 fail, 2 inconclusive, 1 for bad configuration. `nx run` can only exit 0/1; cli.ts exits with this. */
  exitCode: 0 | 1 | 2;
  outcome?: Outcome;
  reportFile?: string;
}

/**
 * Thin shell: options → smoke.json → expectation → (plan | run + report). All logic is in
 * lib/smoke; `adapters` lets tests swap I/O without touching the executor.
 */
export type SmokeExecutorDeps = Partial<SmokeAdapters>;

export async function runSmokeExecutor(
  options: SmokeExecutorSchema,
  context: ExecutorContext,
  adapters: SmokeExecutorDeps = {},
): Promise<SmokeExecutorResult> {
  const log = adapters.log ?? consoleOutput.log;
  const project = context.projectName;
  const projectConfig = project ? context.projectsConfigurations?.projects[project] : undefined;
  if (!project || !projectConfig) {
    log(`smoke: no project in the executor context (got "${project ?? ''}"): run it as "nx run <project>:smoke".`);
    return { success: false, exitCode: 1 };
  }
  const environment = options.environment ?? 'local';
  try {
    const config = loadSmokeConfig({
      workspaceRoot: context.root,
      project,
      projectRoot: projectConfig.root,
      environment,
      configFile: options.config,
      overrides: {
        baseUrl: options.baseUrl,
        readinessTimeoutMs: options.readinessTimeoutMs,
        expectTimeoutMs: options.expectTimeoutMs,
        skipK6: options.skipK6,
        skipPlaywright: options.skipPlaywright,
      },
    });
    const expectation = resolveExpectation({
      workspaceRoot: context.root,
      project,
      expectVersion: options.expectVersion,
      expectRevision: options.expectRevision,
      expectFrom: options.expectFrom,
      expectRecord: options.expectRecord,
    });
    if (options.dryRun) {
      log(renderPlan(config, expectation));
      return { success: true, exitCode: 0 };
    }
    const { report, reportFile } = await runAndRecord(config, {
      workspaceRoot: context.root,
      expect: expectation,
      adapters: { ...adapters, log },
      reportDir: options.reportDir,
      stepSummaryFile: options.stepSummary ? resolve(context.root, options.stepSummary) : undefined,
    });
    return {
      success: report.outcome === 'pass',
      exitCode: report.exitCode,
      outcome: report.outcome,
      reportFile,
    };
  } catch (error) {
    if (error instanceof SmokeConfigError) {
      log(error.message);
      return { success: false, exitCode: 1 };
    }
    throw error;
  }
}

export default runSmokeExecutor;
