/**
 * `nx run` can only exit 0 or 1: Nx maps every failed task to 1, whatever the executor returns
 * (verified with Nx 23.2.1; process.exitCode/process.exit in the executor do not reach the shell,
 * because the task runs in a child process). This entry point runs the same `smoke` target in
 * process, with the target's options and configuration from the project graph, and exits with the
 * smoke outcome: 0 pass, 1 fail (or bad configuration), 2 inconclusive.
 *
 *   node -r @swc-node/register tools/delivery/src/executors/smoke/cli.ts catalog --configuration=staging --expect-version=1.4.0
 *
 * Options are the executor's (schema.json), in kebab-case; `--configuration`/`-c` picks the
 * environment configuration; `--target` another target name using this executor.
 */
import {
  createProjectGraphAsync,
  readProjectsConfigurationFromProjectGraph,
  runExecutor,
  workspaceRoot,
  type ExecutorContext,
  type NxJsonConfiguration,
} from '@nx/devkit';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { SmokeExecutorResult } from './executor';

interface SchemaProperty {
  type?: string | string[];
}

export function parseCliArgs(
  argv: string[],
  properties: Record<string, SchemaProperty>,
): {
  project?: string;
  target: string;
  configuration?: string;
  overrides: Record<string, unknown>;
  problems: string[];
} {
  const overrides: Record<string, unknown> = {};
  const problems: string[] = [];
  let project: string | undefined;
  let target = 'smoke';
  let configuration: string | undefined;
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i];
    if (!arg.startsWith('-')) {
      if (project) problems.push(`unexpected argument "${arg}": give one project`);
      else project = arg;
      continue;
    }
    const [rawName, inlineValue] = arg.replace(/^--?/, '').split(/=(.*)/s, 2);
    const name = rawName.replace(/-([a-z])/g, (_m, c: string) => c.toUpperCase());
    const takeValue = (): string | undefined => {
      if (inlineValue !== undefined) return inlineValue;
      const next = argv[i + 1];
      if (next === undefined || next.startsWith('--')) return undefined;
      i += 1;
      return next;
    };
    if (name === 'configuration' || name === 'c') {
      configuration = takeValue();
      continue;
    }
    if (name === 'target') {
      target = takeValue() ?? target;
      continue;
    }
    const negated =
      name.startsWith('no') && properties[name[2]?.toLowerCase() + name.slice(3)]
        ? name[2].toLowerCase() + name.slice(3)
        : undefined;
    const key = negated ?? name;
    const property = properties[key];
    if (!property) {
      problems.push(`unknown option --${rawName}: see tools/delivery/src/executors/smoke/schema.json`);
      continue;
    }
    const types = Array.isArray(property.type) ? property.type : [property.type ?? 'string'];
    if (types.includes('boolean')) {
      const value = negated ? 'false' : (inlineValue ?? 'true');
      if (value !== 'true' && value !== 'false') problems.push(`--${rawName} takes true or false, got "${value}"`);
      overrides[key] = value === 'true';
      continue;
    }
    const value = takeValue();
    if (value === undefined) {
      problems.push(`--${rawName} needs a value`);
      continue;
    }
    if (types.includes('integer') && !types.includes('string')) {
      if (!/^-?\d+$/.test(value)) problems.push(`--${rawName} must be a whole number, got "${value}"`);
      overrides[key] = Number(value);
    } else overrides[key] = value;
  }
  return { project, target, configuration, overrides, problems };
}

async function main(argv: string[]): Promise<number> {
  const schema = JSON.parse(readFileSync(join(__dirname, 'schema.json'), 'utf8')) as {
    properties: Record<string, SchemaProperty>;
  };
  const args = parseCliArgs(argv, schema.properties);
  if (!args.project)
    args.problems.push('missing the project: smoke <project> [--configuration=<env>] [--expect-version=...]');
  if (args.problems.length) {
    process.stderr.write(`smoke: ${args.problems.join('\nsmoke: ')}\n`);
    return 1;
  }
  const project = args.project as string;
  const graph = await createProjectGraphAsync({ exitOnError: false });
  const projectsConfigurations = readProjectsConfigurationFromProjectGraph(graph);
  const withTarget = Object.entries(projectsConfigurations.projects)
    .filter(([, p]) => p.targets?.[args.target]?.executor === '@slipway/delivery:smoke')
    .map(([name]) => name)
    .sort();
  if (!withTarget.includes(project)) {
    process.stderr.write(
      `smoke: ${projectsConfigurations.projects[project] ? `project "${project}" has no ${args.target} target (add a smoke.json beside its package.json)` : `unknown project "${project}"`}. Projects with one: ${withTarget.join(', ') || '(none)'}\n`,
    );
    return 1;
  }
  const context: ExecutorContext = {
    root: workspaceRoot,
    cwd: process.cwd(),
    isVerbose: false,
    projectName: project,
    targetName: args.target,
    configurationName: args.configuration,
    projectGraph: graph,
    projectsConfigurations,
    // devkit's readNxJson needs a generator Tree; the file is all the executor context needs.
    nxJsonConfiguration: JSON.parse(readFileSync(join(workspaceRoot, 'nx.json'), 'utf8')) as NxJsonConfiguration,
  };
  let result: SmokeExecutorResult | undefined;
  for await (const output of await runExecutor<SmokeExecutorResult>(
    { project, target: args.target, configuration: args.configuration },
    args.overrides,
    context,
  )) {
    result = output;
  }
  return result?.exitCode ?? (result?.success ? 0 : 1);
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      process.stderr.write(`smoke: ${(error as Error)?.message ?? String(error)}\n`);
      process.exitCode = 1;
    },
  );
}
