import { DeliveryInputError } from '../shared/errors';
import { runProcess } from '../shared/process';
import { SmokeConfigError, loadSmokeConfig, type SmokeOverrides } from '../smoke/config';
import { createK6Runner } from '../smoke/runners';
import { runAndRecord } from '../smoke/smoke-project';
import type { ExpectedVersion, Outcome, ResolvedSmokeConfig, SmokeAdapters, WorkloadWatch } from '../smoke/types';

/**
 * Step 4 of a release: smoke every deployed project in process through the smoke library (readiness,
 * version gate against what was just deployed, HTTP checks, k6, Playwright). The configurations are
 * loaded up front (`preflight`), so a broken smoke.json stops the release before anything moves.
 */
export interface SmokeSettings {
  k6: boolean;
  playwright: boolean;
  /** K6_DURATION for the k6 smoke scripts (shorter runs on one machine). */
  k6Duration?: string;
  /** K6_VUS for the k6 smoke scripts (fewer virtual users, e.g. under a service's rate limit). */
  k6Vus?: number;
  readinessTimeoutMs?: number;
  expectTimeoutMs?: number;
}

export interface SmokeStepOptions {
  workspaceRoot: string;
  environment: string;
  /** Nx project roots by name (smoke.json sits beside each). */
  projectRoots: Record<string, string>;
  settings: SmokeSettings;
  /** Base URL per project when the environment dictates it (podman ports); otherwise smoke.json / SMOKE_<P>_URL. */
  baseUrls: Record<string, string>;
  log: (line: string) => void;
  env?: NodeJS.ProcessEnv;
  adapters?: Partial<SmokeAdapters>;
  /** The deployed workload's health, asked while readiness waits (cluster adapters with `health`). */
  watch?: (project: string) => WorkloadWatch | undefined;
}

export interface SmokeOutcome {
  project: string;
  outcome: Outcome;
  summary: string;
  baseUrl: string;
  reportFile: string;
}

export interface SmokeStep {
  preflight(projects: string[]): void;
  run(project: string, expect: ExpectedVersion | null, source: string): Promise<SmokeOutcome>;
}

export function createSmokeStep(options: SmokeStepOptions): SmokeStep {
  const env = options.env ?? process.env;
  const configs = new Map<string, ResolvedSmokeConfig>();
  const load = (project: string): ResolvedSmokeConfig => {
    const cached = configs.get(project);
    if (cached) return cached;
    const projectRoot = options.projectRoots[project];
    if (projectRoot === undefined)
      throw new DeliveryInputError(
        `project '${project}' is not in the workspace`,
        'check the deploy target\'s "projects"',
      );
    const overrides: SmokeOverrides = {
      baseUrl: options.baseUrls[project],
      readinessTimeoutMs: options.settings.readinessTimeoutMs,
      expectTimeoutMs: options.settings.expectTimeoutMs,
      skipK6: !options.settings.k6,
      skipPlaywright: !options.settings.playwright,
    };
    try {
      const config = loadSmokeConfig({
        workspaceRoot: options.workspaceRoot,
        project,
        projectRoot,
        environment: options.environment,
        env,
        overrides,
      });
      configs.set(project, config);
      return config;
    } catch (error) {
      if (error instanceof SmokeConfigError) {
        throw new DeliveryInputError(
          `smoke configuration of ${project} for ${options.environment}: ${error.message}`,
          `fix ${projectRoot}/smoke.json (nothing was deployed)`,
        );
      }
      throw error;
    }
  };
  // k6 reads its own K6_* variables; the smoke runner passes this process's environment to it.
  const k6Env: Record<string, string> = {
    ...(options.settings.k6Duration ? { K6_DURATION: options.settings.k6Duration } : {}),
    ...(options.settings.k6Vus ? { K6_VUS: String(options.settings.k6Vus) } : {}),
  };
  const adapters: Partial<SmokeAdapters> = {
    log: (line) => options.log(`  ${line}`),
    ...(Object.keys(k6Env).length > 0
      ? {
          k6: createK6Runner((program, args, runOptions) =>
            runProcess(program, args, {
              ...runOptions,
              env: { ...(runOptions.env ?? process.env), ...k6Env },
            }),
          ),
        }
      : {}),
    ...(options.adapters ?? {}),
  };
  return {
    preflight(projects) {
      for (const p of projects) load(p);
    },
    async run(project, expect, source) {
      const config = load(project);
      options.log(
        `smoke ${project} at ${config.baseUrl}${
          expect
            ? ` expecting ${Object.entries(expect)
                .filter(([, v]) => v)
                .map(([k, v]) => `${k} ${v}`)
                .join(', ')}`
            : ''
        }`,
      );
      const workload = options.watch?.(project);
      const { report, reportFile } = await runAndRecord(config, {
        workspaceRoot: options.workspaceRoot,
        expect: expect ? { fields: expect, source } : null,
        adapters: workload ? { ...adapters, workload } : adapters,
        env,
      });
      return {
        project,
        outcome: report.outcome,
        summary: report.summary,
        baseUrl: config.baseUrl,
        reportFile,
      };
    },
  };
}
