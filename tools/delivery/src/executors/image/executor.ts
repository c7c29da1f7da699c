import type { ExecutorContext } from '@nx/devkit';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { isAbsolute, join, relative, resolve } from 'node:path';
import { contextSourcesOfDockerfile, staticPrefix } from '../../lib/image/dockerfile';
import {
  EngineCommand,
  EngineProbe,
  ImageEngine,
  formatCommand,
  hostEngineProbe,
  resolveEngine,
} from '../../lib/image/engines';
import { GitFacts, resolveGitFacts } from '../../lib/image/git-facts';
import { ImagePlan, planImage } from '../../lib/image/plan';
import { writeRecord, type WrittenImageRecord } from '../../lib/image/record';
import {
  HttpRegistryClient,
  RegistryClient,
  RegistryCredentials,
  RegistryUnreachableError,
} from '../../lib/image/registry';
import { assertValidTags } from '../../lib/image/tags';
import { RunResult, runProcess } from '../../lib/shared/process';
import { redact } from '../../lib/shared/redact';
import type { ImageExecutorSchema } from './schema';

/** The I/O the executor does, swappable in tests. */
export interface ImageExecutorDeps {
  probe: EngineProbe;
  registry(options: { registry: string; insecure: boolean; credentials?: RegistryCredentials }): RegistryClient;
  run(command: EngineCommand, secrets: readonly string[], cwd: string): Promise<RunResult>;
  gitFacts(cwd: string, env: NodeJS.ProcessEnv): Promise<GitFacts>;
  env: NodeJS.ProcessEnv;
  now(): Date;
  log(message: string): void;
  error(message: string): void;
}

export const hostDeps: ImageExecutorDeps = {
  probe: hostEngineProbe,
  registry: (options) => new HttpRegistryClient(options),
  run: (command, secrets, cwd) =>
    runProcess(command.program, command.args, {
      cwd,
      env: { ...process.env, ...command.env },
      secrets,
      timeoutMs: 30 * 60_000,
      onOutput: (chunk) => process.stdout.write(chunk),
    }),
  gitFacts: (cwd, env) => resolveGitFacts(cwd, env),
  env: process.env,
  now: () => new Date(),
  log: (message) => console.log(message),
  error: (message) => console.error(message),
};

export class ImageInputError extends Error {}

function interpolate(value: string, projectRoot: string, workspaceRoot: string): string {
  return value.replace(/\{projectRoot\}/g, projectRoot).replace(/\{workspaceRoot\}/g, workspaceRoot);
}

/** The Nx task hash of this very task: the content tag is made from it. */
export function taskHashOf(context: ExecutorContext): string | undefined {
  const tasks = context.taskGraph?.tasks ?? {};
  const withConfig = `${context.projectName}:${context.targetName}${context.configurationName ? `:${context.configurationName}` : ''}`;
  const task =
    tasks[withConfig] ??
    tasks[`${context.projectName}:${context.targetName}`] ??
    Object.values(tasks).find(
      (t) => t.target.project === context.projectName && t.target.target === context.targetName,
    );
  return task?.hash;
}

interface Prepared {
  plan: ImagePlan;
  engine: ImageEngine;
  contextDir: string;
  dockerfile: string;
  secretFiles: { id: string; file: string }[];
  secretValues: string[];
  credentials?: RegistryCredentials;
  push: boolean;
}

function readPackageJson(projectRoot: string): { version?: string; description?: string; license?: string } {
  const path = join(projectRoot, 'package.json');
  if (!existsSync(path)) return {};
  return JSON.parse(readFileSync(path, 'utf8')) as { version?: string; description?: string; license?: string };
}

/** Every check that can fail on bad input happens here, before any engine or registry write. */
async function prepare(
  options: ImageExecutorSchema,
  context: ExecutorContext,
  deps: ImageExecutorDeps,
): Promise<Prepared> {
  const workspaceRoot = context.root;
  const project = context.projectName as string;
  const projectConfig = context.projectsConfigurations?.projects[project];
  if (!projectConfig) throw new ImageInputError(`Project "${project}" is not in the workspace.`);
  const projectRoot = projectConfig.root;
  const absolute = (path: string) => resolve(workspaceRoot, interpolate(path, projectRoot, workspaceRoot));

  const engine = await resolveEngine(options.engine ?? 'auto', deps.probe);

  const dockerfile = absolute(options.dockerfile ?? '{projectRoot}/Dockerfile');
  if (!existsSync(dockerfile)) {
    throw new ImageInputError(
      `Dockerfile not found: ${relative(workspaceRoot, dockerfile)}. Create it, or point the "dockerfile" option at an existing file.`,
    );
  }
  const contextDir = absolute(options.context ?? '{projectRoot}');
  if (!existsSync(contextDir) || !statSync(contextDir).isDirectory()) {
    throw new ImageInputError(
      `Build context not found: ${relative(workspaceRoot, contextDir)}. Point the "context" option at a directory.`,
    );
  }
  const missing = contextSourcesOfDockerfile(readFileSync(dockerfile, 'utf8'))
    .map(staticPrefix)
    .filter((source) => source && !existsSync(join(contextDir, source)));
  if (missing.length > 0) {
    throw new ImageInputError(
      `Build output missing in ${relative(workspaceRoot, contextDir) || '.'}: ${missing.join(', ')} (copied by ${relative(workspaceRoot, dockerfile)}). Run the image target through Nx so build and prune run first (nx run ${project}:image), or run nx run ${project}:prune.`,
    );
  }

  const secretFiles: { id: string; file: string }[] = [];
  const secretValues: string[] = [];
  const pendingEnvSecrets: { id: string; value: string }[] = [];
  for (const secret of options.secrets ?? []) {
    if (!/^[A-Za-z0-9_.-]+$/.test(secret.id))
      throw new ImageInputError(`Invalid secret id "${secret.id}": use letters, digits, ".", "_" and "-".`);
    if (!!secret.env === !!secret.file)
      throw new ImageInputError(`Secret "${secret.id}": give exactly one of "env" or "file".`);
    if (secret.file) {
      const file = absolute(secret.file);
      if (!existsSync(file))
        throw new ImageInputError(
          `Secret "${secret.id}": file ${secret.file} does not exist. Create it or fix the path in the "secrets" option.`,
        );
      const content = readFileSync(file, 'utf8');
      if (content.length <= 4096) secretValues.push(content.trim(), content);
      secretFiles.push({ id: secret.id, file });
    } else {
      const value = deps.env[secret.env as string];
      if (value === undefined || value === '')
        throw new ImageInputError(
          `Secret "${secret.id}": environment variable ${secret.env} is not set. Export it before running the image target.`,
        );
      secretValues.push(value);
      pendingEnvSecrets.push({ id: secret.id, value });
    }
  }

  const pkg = readPackageJson(resolve(workspaceRoot, projectRoot));
  const taskHash = taskHashOf(context);
  if (!taskHash)
    throw new ImageInputError(
      `No Nx task hash for ${project}:${context.targetName}. Run it through Nx: nx run ${project}:${context.targetName}.`,
    );
  const git = await deps.gitFacts(workspaceRoot, deps.env);
  let plan: ImagePlan;
  try {
    plan = planImage({
      project,
      taskHash,
      git,
      packageVersion: pkg.version,
      packageDescription: pkg.description,
      packageLicense: pkg.license,
      env: deps.env,
      now: deps.now(),
      options,
    });
    assertValidTags(plan.tags);
  } catch (error) {
    throw new ImageInputError((error as Error).message);
  }

  const username = deps.env[options.registryUsernameEnv ?? 'REGISTRY_USERNAME'];
  const password = deps.env[options.registryPasswordEnv ?? 'REGISTRY_PASSWORD'];
  const credentials = username && password ? { username, password } : undefined;
  if (credentials) secretValues.push(password as string, Buffer.from(`${username}:${password}`).toString('base64'));

  // Env secrets become 0600 files only now that every check passed (no partial writes on bad input).
  if (pendingEnvSecrets.length > 0) {
    const dir = mkdtempSync(join(tmpdir(), 'slipway-image-secrets-'));
    for (const { id, value } of pendingEnvSecrets) {
      const file = join(dir, id);
      writeFileSync(file, value, { mode: 0o600 });
      secretFiles.push({ id, file });
    }
  }
  return { plan, engine, contextDir, dockerfile, secretFiles, secretValues, credentials, push: options.push ?? true };
}

function recordFromPlan(plan: ImagePlan, project: string, digest: string, engine: string): WrittenImageRecord {
  return {
    project,
    image: plan.image.full,
    tags: plan.tags,
    digest,
    contentTag: plan.contentTag,
    revision: plan.revision,
    version: plan.version,
    builtAt: plan.created,
    reused: false,
    engine,
  };
}

export async function runImage(
  options: ImageExecutorSchema,
  context: ExecutorContext,
  deps: ImageExecutorDeps = hostDeps,
): Promise<{ success: boolean; record?: WrittenImageRecord }> {
  let prepared: Prepared | undefined;
  let workDir: string | undefined;
  const project = context.projectName as string;
  try {
    prepared = await prepare(options, context, deps);
    const { plan, engine, credentials } = prepared;
    workDir = mkdtempSync(join(tmpdir(), `slipway-image-${project}-`));
    let authFile: string | undefined;
    let dockerConfigDir: string | undefined;
    if (credentials && prepared.push) {
      const auth = {
        auths: {
          [plan.image.registry]: {
            auth: Buffer.from(`${credentials.username}:${credentials.password}`).toString('base64'),
          },
        },
      };
      authFile = join(workDir, 'auth.json');
      writeFileSync(authFile, JSON.stringify(auth), { mode: 0o600 });
      if (engine.name === 'docker') {
        dockerConfigDir = join(workDir, 'docker');
        mkdirSync(dockerConfigDir, { mode: 0o700 });
        writeFileSync(join(dockerConfigDir, 'config.json'), JSON.stringify(auth), { mode: 0o600 });
        authFile = undefined;
      }
    }
    const wantsAttestations =
      (options.sbom && !engine.supportsSbom) || (options.provenance && !engine.supportsProvenance);
    if (wantsAttestations)
      deps.log(
        `warning: ${engine.name} cannot attach SBOM/provenance attestations; building without them (use --engine=docker for attestations).`,
      );
    const commands = engine.plan({
      contextDir: prepared.contextDir,
      dockerfile: prepared.dockerfile,
      target: options.target,
      refs: plan.refs,
      labels: plan.labels,
      buildArgs: plan.buildArgs,
      secrets: prepared.secretFiles,
      platforms: options.platforms ?? [],
      push: prepared.push,
      load: engine.name === 'docker' && (options.load ?? false),
      cacheFrom: options.cacheFrom ?? [],
      cacheTo: options.cacheTo ?? [],
      sbom: (options.sbom ?? false) && engine.supportsSbom,
      provenance: (options.provenance ?? false) && engine.supportsProvenance,
      insecureRegistry: plan.insecureRegistry,
      authFile,
      dockerConfigDir,
      digestFile: join(workDir, engine.name === 'docker' ? 'metadata.json' : 'digest'),
      storageDriver: engine.name === 'docker' ? undefined : (options.storageDriver ?? 'vfs'),
    });
    const secrets = prepared.secretValues;
    deps.log(`image ${plan.image.full}`);
    deps.log(`content tag ${plan.contentTag}`);
    deps.log(`tags ${plan.tags.join(' ')}`);

    if (options.dryRun) {
      deps.log(
        `dry run: engine ${engine.name}; would first check ${plan.image.full}:${plan.contentTag} in the registry and, if present, only add the tags remotely. Otherwise:`,
      );
      for (const command of commands) deps.log(redact(formatCommand(command), secrets));
      return { success: true };
    }

    let client: RegistryClient | undefined;
    if (prepared.push) {
      client = deps.registry({ registry: plan.image.registry, insecure: plan.insecureRegistry, credentials });
      const existing = await client.headManifest(plan.image.path, plan.contentTag);
      if (existing) {
        const manifest = await client.getManifest(plan.image.path, plan.contentTag);
        for (const tag of plan.tags)
          if (tag !== plan.contentTag) await client.putManifest(plan.image.path, tag, manifest);
        // The image was built earlier: its labels, not this checkout, say which revision and version it holds.
        const labels = await client.getLabels(plan.image.path, plan.contentTag);
        const record: WrittenImageRecord = {
          ...recordFromPlan(plan, project, existing.digest, engine.name),
          revision: labels['org.opencontainers.image.revision'] || plan.revision,
          version: labels['org.opencontainers.image.version'] || plan.version,
          builtAt: labels['org.opencontainers.image.created'] || plan.created,
          reused: true,
        };
        const path = writeRecord(context.root, record);
        deps.log(
          `reused ${plan.image.full}@${existing.digest} (content tag ${plan.contentTag} already in the registry): no build; tags added: ${plan.tags.filter((t) => t !== plan.contentTag).join(' ') || '(none)'}`,
        );
        deps.log(`record ${relative(context.root, path)}`);
        return { success: true, record };
      }
    }

    for (const command of commands) {
      deps.log(`$ ${redact(formatCommand(command), secrets)}`);
      const result = await deps.run(command, secrets, context.root);
      if (result.code !== 0) {
        const tail = redact(`${result.stderr}`.trim().split('\n').slice(-15).join('\n'), secrets);
        throw new Error(
          `${engine.name} ${command.purpose} failed with exit code ${result.code}${result.timedOut ? ' (timed out)' : ''}:\n${tail}`,
        );
      }
    }
    if (!client) {
      deps.log(`built ${plan.refs.join(' ')} locally (push=false): no registry check, no record.`);
      return { success: true };
    }
    const digestFile = join(workDir, engine.name === 'docker' ? 'metadata.json' : 'digest');
    const pushed = existsSync(digestFile) ? engine.readDigest(readFileSync(digestFile, 'utf8')) : undefined;
    const inRegistry = await client.headManifest(plan.image.path, plan.contentTag);
    if (!inRegistry)
      throw new Error(`Pushed ${plan.image.full}:${plan.contentTag}, but the registry does not report it.`);
    if (pushed && pushed !== inRegistry.digest)
      throw new Error(
        `The engine reported digest ${pushed} but the registry serves ${inRegistry.digest} for ${plan.contentTag}.`,
      );
    const record = recordFromPlan(plan, project, inRegistry.digest, engine.name);
    const path = writeRecord(context.root, record);
    deps.log(`pushed ${plan.image.full}@${inRegistry.digest}`);
    deps.log(`record ${relative(context.root, path)}`);
    return { success: true, record };
  } catch (error) {
    const message = error instanceof RegistryUnreachableError || error instanceof Error ? error.message : String(error);
    deps.error(`image ${project}: ${redact(message, prepared?.secretValues ?? [])}`);
    return { success: false };
  } finally {
    if (workDir) rmSync(workDir, { recursive: true, force: true });
    for (const secret of prepared?.secretFiles ?? []) {
      if (
        isAbsolute(secret.file) &&
        secret.file.startsWith(tmpdir()) &&
        secret.file.includes('slipway-image-secrets-')
      ) {
        rmSync(resolve(secret.file, '..'), { recursive: true, force: true });
      }
    }
  }
}

export default async function imageExecutor(
  options: ImageExecutorSchema,
  context: ExecutorContext,
): Promise<{ success: boolean }> {
  const { success } = await runImage(options, context);
  return { success };
}
