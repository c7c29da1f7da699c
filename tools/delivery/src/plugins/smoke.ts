import type { CreateNodes, CreateNodesResult, TargetConfiguration } from '@nx/devkit';
import { existsSync, readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

/** Options in nx.json: `{ "plugin": "./tools/delivery/src/plugins/smoke.ts", "options": { ... } }`. */
export interface SmokePluginOptions {
  /** Name of the inferred smoke target (default `smoke`). */
  smokeTargetName?: string;
  /** Name of the k6 smoke target (default `k6-smoke`). */
  k6SmokeTargetName?: string;
  /** Name of the k6 load target (default `load`). */
  loadTargetName?: string;
  /** Name of the k6 script type-check target (default `typecheck-k6`). */
  k6TypecheckTargetName?: string;
}

/** Resolves (and if need be installs) k6, printing its path: the one place the targets find k6. */
const K6 = '"$(bash tools/scripts/install-k6.sh)"';

/**
 * Inferred targets:
 * - `smoke` for every project with a smoke.json, one configuration per environment in it
 *   (`nx run catalog:smoke:staging`; the default configuration is `local` when it exists);
 * - `k6-smoke` / `load` for every project with k6/smoke.ts / k6/load.ts, reading BASE_URL
 *   (the scripts default to the service's local port); both type-check the scripts first;
 * - `typecheck-k6` for every project with k6/tsconfig.json (`tsc --noEmit` against @types/k6),
 *   made a dependency of the project's `typecheck`.
 * A project's own target configuration can still override any of them.
 */
export const createNodes: CreateNodes<SmokePluginOptions> = [
  '**/{smoke.json,k6/smoke.ts,k6/load.ts,k6/tsconfig.json}',
  (files, options, context) => {
    const names = {
      smoke: options?.smokeTargetName ?? 'smoke',
      k6Smoke: options?.k6SmokeTargetName ?? 'k6-smoke',
      load: options?.loadTargetName ?? 'load',
      typecheck: options?.k6TypecheckTargetName ?? 'typecheck-k6',
    };
    const results: [string, CreateNodesResult][] = [];
    for (const file of files) {
      const inK6 = basename(dirname(file)) === 'k6';
      const projectRoot = inK6 ? dirname(dirname(file)) : dirname(file);
      // Only add targets to existing projects: a stray smoke.json must not create a project.
      const isProject = ['package.json', 'project.json'].some((name) =>
        existsSync(join(context.workspaceRoot, projectRoot, name)),
      );
      if (!isProject || projectRoot === '.') continue;
      const hasK6Tsconfig = existsSync(join(context.workspaceRoot, projectRoot, 'k6', 'tsconfig.json'));
      let targets: Record<string, TargetConfiguration> = {};
      if (!inK6)
        targets = {
          [names.smoke]: smokeTarget(join(context.workspaceRoot, file)),
        };
      else if (basename(file) === 'tsconfig.json') {
        targets = { [names.typecheck]: typecheckTarget(projectRoot) };
        // Hook the k6 check into the project's own `typecheck` (inferred by @nx/js/typescript from
        // tsconfig.json, registered before this plugin), so `nx affected -t typecheck` covers the
        // scripts. Only dependsOn is given: Nx merges it into that target and keeps its command.
        if (existsSync(join(context.workspaceRoot, projectRoot, 'tsconfig.json'))) {
          targets['typecheck'] = { dependsOn: ['^typecheck', names.typecheck] };
        }
      } else {
        const isLoad = basename(file) === 'load.ts';
        targets = {
          [isLoad ? names.load : names.k6Smoke]: k6Target(
            projectRoot,
            file,
            isLoad,
            hasK6Tsconfig ? names.typecheck : undefined,
          ),
        };
      }
      results.push([file, { projects: { [projectRoot]: { targets } } }]);
    }
    return results;
  },
];

function smokeTarget(configFile: string): TargetConfiguration {
  let environments: string[] = [];
  try {
    const raw = JSON.parse(readFileSync(configFile, 'utf8')) as {
      environments?: Record<string, unknown>;
    };
    environments = Object.keys(raw.environments ?? {});
  } catch {
    // A broken smoke.json still gets the target: running it reports the exact problem.
  }
  return {
    executor: '@slipway/delivery:smoke',
    // A smoke run observes a live service: never a cache hit.
    cache: false,
    options: {},
    configurations: Object.fromEntries(environments.map((environment) => [environment, { environment }])),
    ...(environments.includes('local') ? { defaultConfiguration: 'local' } : {}),
    metadata: {
      description:
        'Prove the deployed version answers and works (readiness, version gate, HTTP checks, k6, Playwright @smoke); report in dist/smoke/<env>/<project>.json.',
      technologies: ['k6', 'playwright'],
    },
  };
}

function k6Target(
  projectRoot: string,
  script: string,
  isLoad: boolean,
  typecheckTarget: string | undefined,
): TargetConfiguration {
  return {
    executor: 'nx:run-commands',
    cache: false,
    ...(typecheckTarget ? { dependsOn: [typecheckTarget] } : {}),
    options: {
      // k6 reads BASE_URL itself (__ENV); K6_DURATION/K6_VUS are k6's own overrides of the script's options.
      command: `${K6} run --no-usage-report ${script}`,
      forwardAllArgs: false,
    },
    metadata: {
      description: isLoad
        ? `k6 load test of ${projectRoot} (ramping stages, p95 < 500 ms, errors < 1%) against BASE_URL. Not part of the default test run.`
        : `k6 smoke test of ${projectRoot} (few VUs, ~30 s; K6_DURATION overrides) against BASE_URL.`,
      technologies: ['k6'],
    },
  };
}

function typecheckTarget(projectRoot: string): TargetConfiguration {
  return {
    executor: 'nx:run-commands',
    cache: true,
    inputs: [`{projectRoot}/k6/**/*`, { externalDependencies: ['typescript', '@types/k6'] }],
    outputs: [],
    options: {
      command: `tsc -p ${join(projectRoot, 'k6', 'tsconfig.json')} --noEmit`,
    },
    metadata: {
      description: 'Type-check the k6 scripts against @types/k6.',
      technologies: ['typescript', 'k6'],
    },
  };
}
