import { existsSync, promises as fs } from 'node:fs';
import * as path from 'node:path';
import { readImageRecord, recordFile, recordPath, type ImageRecord } from '../image/record';
import { DeliveryInputError } from '../shared/errors';
import { runProcess, type ProcessRunner } from '../shared/process';

/**
 * Step 1 of a release: an image for every deployable project, through the Nx task graph
 * (`nx run-many -t image`), so build/prune run first, unchanged services are reused by content tag
 * and only changed ones build. The image records in dist/images say which is which (`reused`).
 */
export interface ImageStepOptions {
  workspaceRoot: string;
  projects: string[];
  registry: string;
  parallel: number;
  /** Extra environment for the image targets (NODE_IMAGE from the local prerequisites). */
  env: NodeJS.ProcessEnv;
  log: (line: string) => void;
  run?: ProcessRunner;
  now?: () => number;
}

/** Variables Nx sets for the task that runs us; a nested Nx must not inherit them. */
const PARENT_TASK_VARIABLE =
  /^NX_(TASK_|TERMINAL_|STREAM_OUTPUT$|PREFIX_OUTPUT$|FORKED_TASK_EXECUTOR$|CLI_SET$|SET_CLI$)/;

export function childEnvironment(base: NodeJS.ProcessEnv, extra: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(base)) if (!PARENT_TASK_VARIABLE.test(key)) env[key] = value;
  return { ...env, ...extra };
}

/** `export NODE_IMAGE=localhost/slipway/node-base:20.20.2` lines → variables. */
export function parseExports(stdout: string): Record<string, string> {
  const vars: Record<string, string> = {};
  for (const line of stdout.split('\n')) {
    const m = /^export ([A-Z_][A-Z0-9_]*)=(.*)$/.exec(line.trim());
    if (m) vars[m[1]] = m[2].replace(/^(['"])(.*)\1$/, '$2');
  }
  return vars;
}

/**
 * The local prerequisites (tools/scripts/local-prereqs.sh, idempotent): a registry answering on
 * `registry` with its data under .local/, and the locally assembled Node base image. Returns the
 * variables it exports (NODE_IMAGE).
 */
export async function ensureLocalPrerequisites(opts: {
  workspaceRoot: string;
  script: string;
  registry: string;
  log: (line: string) => void;
  run?: ProcessRunner;
}): Promise<Record<string, string>> {
  const script = path.resolve(opts.workspaceRoot, opts.script);
  if (!existsSync(script))
    throw new DeliveryInputError(
      `${opts.script} does not exist`,
      'restore it from the repository, or pass --prereqs=false and start a registry yourself',
    );
  const run = opts.run ?? runProcess;
  opts.log(`local prerequisites: registry ${opts.registry}, base image (${opts.script})`);
  const result = await run('bash', [script], {
    cwd: opts.workspaceRoot,
    env: { ...process.env, SLIPWAY_REGISTRY_ADDR: opts.registry },
    timeoutMs: 15 * 60_000,
    onOutput: (chunk, stream) => {
      if (stream === 'stderr') for (const line of chunk.split('\n')) if (line.trim()) opts.log(`  ${line}`);
    },
  });
  if (result.code !== 0) {
    throw new DeliveryInputError(
      `${opts.script} failed (exit ${result.code}): ${result.stderr.trim().split('\n').slice(-5).join(' / ')}`,
      'fix what it reports (e.g. apt-get install -y docker-registry buildah) and run again',
    );
  }
  return parseExports(result.stdout);
}

/** The workspace's own Nx CLI, run with this node (no npx start-up), else npx. */
export function nxCommand(workspaceRoot: string): {
  program: string;
  args: string[];
} {
  const bin = path.join(workspaceRoot, 'node_modules', 'nx', 'dist', 'bin', 'nx.js');
  return existsSync(bin) ? { program: process.execPath, args: [bin] } : { program: 'npx', args: ['--no', '--', 'nx'] };
}

/** Run the image targets of `projects` through Nx and return their fresh records. */
export async function buildImages(opts: ImageStepOptions): Promise<ImageRecord[]> {
  const run = opts.run ?? runProcess;
  const now = opts.now ?? Date.now;
  const started = now();
  const nx = nxCommand(opts.workspaceRoot);
  const args = [
    ...nx.args,
    'run-many',
    '-t',
    'image',
    '-p',
    opts.projects.join(','),
    `--parallel=${opts.parallel}`,
    '--outputStyle=static',
    // The release never rewrites the developer's tsconfig references (CI runs nx sync:check); skipping
    // the sync generators also halves the time of a no-change run.
    '--skip-sync',
  ];
  opts.log(`nx ${args.slice(nx.args.length).join(' ')} (registry ${opts.registry})`);
  const result = await run(nx.program, args, {
    cwd: opts.workspaceRoot,
    env: childEnvironment(process.env, {
      ...opts.env,
      SLIPWAY_REGISTRY: opts.registry,
    }),
    timeoutMs: 60 * 60_000,
    onOutput: (chunk) => {
      for (const line of chunk.split('\n')) if (line.trim()) opts.log(`  ${line}`);
    },
  });
  if (result.code !== 0) {
    throw new DeliveryInputError(
      `the image step failed (nx run-many -t image exited ${result.code}); nothing was deployed`,
      'see the image output above, fix it, and run again',
    );
  }
  return readBuiltImageRecords(opts.workspaceRoot, opts.projects, opts.registry, started);
}

/**
 * The records of `projects`. With `freshSince`, each must have been written by this run (an old
 * record would deploy an image this run did not check).
 */
export async function readBuiltImageRecords(
  workspaceRoot: string,
  projects: string[],
  registry: string,
  freshSince?: number,
): Promise<ImageRecord[]> {
  const records: ImageRecord[] = [];
  for (const project of projects) {
    const rel = recordFile(project);
    const file = recordPath(workspaceRoot, project);
    const stat = await fs.stat(file).catch(() => undefined);
    if (!stat)
      throw new DeliveryInputError(
        `no image record ${rel}`,
        `run nx run ${project}:image (or deploy with --images=build)`,
      );
    // Filesystem timestamps can trail the clock by a tick.
    if (freshSince !== undefined && stat.mtimeMs < freshSince - 2000) {
      throw new DeliveryInputError(
        `${rel} was not rewritten by this run's image step (it is from ${stat.mtime.toISOString()})`,
        `run nx run ${project}:image and check its output`,
      );
    }
    const record = await readImageRecord(file, rel);
    if (record.project !== project)
      throw new DeliveryInputError(
        `${rel} is the record of '${record.project}', not '${project}'`,
        `rebuild it with nx run ${project}:image`,
      );
    if (!record.image.startsWith(`${registry}/`)) {
      throw new DeliveryInputError(
        `${rel} names ${record.image}, which is not in the environment's registry ${registry}`,
        `rebuild with --registry=${registry} (or SLIPWAY_REGISTRY), or deploy with the registry the record names`,
      );
    }
    records.push(record);
  }
  return records;
}
