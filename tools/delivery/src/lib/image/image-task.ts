import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { isAbsolute, join, relative, resolve } from 'node:path';
import type { ImageExecutorSchema } from '../../executors/image/schema';
import { runProcess, type RunResult } from '../shared/process';
import { redact } from '../shared/redact';
import { consoleOutput, type Output } from '../shared/output';
import { contextSourcesOfDockerfile, staticPrefix } from './dockerfile';
import { linkDockerConfigExtras } from './docker-config';
import { explainEngineFailure } from './engine-failure';
import { recordFieldsOfIndex } from './index-contents';
import {
  chooseEngine,
  formatCommand,
  hostEngineProbe,
  type EngineCommand,
  type EngineProbe,
  type ImageEngine,
} from './engines';
import { resolveGitFacts, type GitFacts } from './git-facts';
import { planImage, type ImagePlan } from './plan';
import { writeRecord, type WrittenImageRecord } from './record';
import {
  HttpRegistryClient,
  RegistryUnreachableError,
  type ManifestInfo,
  type RegistryClient,
  type RegistryCredentials,
} from './registry';
import { assertValidTags } from './tags';
import { hostSupplyChainTools, type SupplyChainTools, type SupplyChainToolOptions } from '../supply-chain/adapters';
import { cleanupSigning, prepareSigning, signPushedImage, type PreparedSigning } from '../supply-chain/image-signing';

/**
 * One image task (`nx run <project>:image`): check every input (Dockerfile, context, build output,
 * secrets, tags) before anything is written; reuse the image when the registry already has its
 * content tag (only the other tags are added, remotely); else build and push with the engine,
 * check the registry serves the digest the engine reported, and write the image record.
 * Secrets and registry credentials never reach the log (the one redactor), and their temporary
 * files are removed whatever happens.
 */

/** The I/O the image task does, swappable in tests. */
export interface ImageTaskDeps extends Output {
  probe: EngineProbe;
  registry(options: { registry: string; insecure: boolean; credentials?: RegistryCredentials }): RegistryClient;
  run(command: EngineCommand, secrets: readonly string[], cwd: string): Promise<RunResult>;
  gitFacts(cwd: string, env: NodeJS.ProcessEnv): Promise<GitFacts>;
  env: NodeJS.ProcessEnv;
  now(): Date;
  /** cosign + syft: sign, attest and verify after the push. */
  supplyChain(options: SupplyChainToolOptions): SupplyChainTools;
}

export const hostImageDeps: ImageTaskDeps = {
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
  supplyChain: hostSupplyChainTools,
  ...consoleOutput,
};

/** Where the task runs: the Nx project and the hash of this very task (the content tag comes from it). */
export interface ImageTaskTarget {
  workspaceRoot: string;
  project: string;
  /** Undefined when the project is not in the workspace. */
  projectRoot?: string;
  targetName?: string;
  taskHash?: string;
}

export class ImageInputError extends Error {}

interface Prepared {
  plan: ImagePlan;
  engine: ImageEngine;
  contextDir: string;
  dockerfile: string;
  secretFiles: { id: string; file: string }[];
  secretValues: string[];
  credentials?: RegistryCredentials;
  push: boolean;
  /** Who signs after the push (checked before anything is built); undefined: unsigned. */
  signing?: PreparedSigning;
}

interface SecretInputs {
  secretFiles: { id: string; file: string }[];
  secretValues: string[];
  /** Env secrets, written to 0600 files only once every check passed. */
  pending: { id: string; value: string }[];
}

function readPackageJson(projectRoot: string): { version?: string; description?: string; license?: string } {
  const path = join(projectRoot, 'package.json');
  if (!existsSync(path)) return {};
  return JSON.parse(readFileSync(path, 'utf8')) as { version?: string; description?: string; license?: string };
}

/** The Dockerfile, the build context and the build output the Dockerfile copies must all exist. */
function checkBuildInputs(
  options: ImageExecutorSchema,
  target: ImageTaskTarget,
  absolute: (path: string) => string,
): { dockerfile: string; contextDir: string } {
  const root = target.workspaceRoot;
  const dockerfile = absolute(options.dockerfile ?? '{projectRoot}/Dockerfile');
  if (!existsSync(dockerfile)) {
    throw new ImageInputError(
      `Dockerfile not found: ${relative(root, dockerfile)}. Create it, or point the "dockerfile" option at an existing file.`,
    );
  }
  const contextDir = absolute(options.context ?? '{projectRoot}');
  if (!existsSync(contextDir) || !statSync(contextDir).isDirectory()) {
    throw new ImageInputError(
      `Build context not found: ${relative(root, contextDir)}. Point the "context" option at a directory.`,
    );
  }
  const missing = contextSourcesOfDockerfile(readFileSync(dockerfile, 'utf8'))
    .map(staticPrefix)
    .filter((source) => source && !existsSync(join(contextDir, source)));
  if (missing.length > 0) {
    const p = target.project;
    throw new ImageInputError(
      `Build output missing in ${relative(root, contextDir) || '.'}: ${missing.join(', ')} (copied by ${relative(root, dockerfile)}). Run the image target through Nx so build and prune run first (nx run ${p}:image), or run nx run ${p}:prune.`,
    );
  }
  return { dockerfile, contextDir };
}

/** Build secrets: ids checked, files read (their values redacted), env values read but not written yet. */
function readSecrets(
  options: ImageExecutorSchema,
  env: NodeJS.ProcessEnv,
  absolute: (path: string) => string,
): SecretInputs {
  const inputs: SecretInputs = { secretFiles: [], secretValues: [], pending: [] };
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
      if (content.length <= 4096) inputs.secretValues.push(content.trim(), content);
      inputs.secretFiles.push({ id: secret.id, file });
    } else {
      const value = env[secret.env as string];
      if (value === undefined || value === '')
        throw new ImageInputError(
          `Secret "${secret.id}": environment variable ${secret.env} is not set. Export it before running the image target.`,
        );
      inputs.secretValues.push(value);
      inputs.pending.push({ id: secret.id, value });
    }
  }
  return inputs;
}

/** Registry credentials from the environment; the password and its base64 auth become secrets. */
function registryCredentials(
  options: ImageExecutorSchema,
  env: NodeJS.ProcessEnv,
  secretValues: string[],
): RegistryCredentials | undefined {
  const username = env[options.registryUsernameEnv ?? 'REGISTRY_USERNAME'];
  const password = env[options.registryPasswordEnv ?? 'REGISTRY_PASSWORD'];
  if (!username || !password) return undefined;
  secretValues.push(password, Buffer.from(`${username}:${password}`).toString('base64'));
  return { username, password };
}

async function planFor(
  options: ImageExecutorSchema,
  target: ImageTaskTarget,
  projectRoot: string,
  deps: ImageTaskDeps,
): Promise<ImagePlan> {
  const pkg = readPackageJson(resolve(target.workspaceRoot, projectRoot));
  if (!target.taskHash)
    throw new ImageInputError(
      `No Nx task hash for ${target.project}:${target.targetName}. Run it through Nx: nx run ${target.project}:${target.targetName}.`,
    );
  const git = await deps.gitFacts(target.workspaceRoot, deps.env);
  try {
    const plan = planImage({
      project: target.project,
      taskHash: target.taskHash,
      git,
      packageVersion: pkg.version,
      packageDescription: pkg.description,
      packageLicense: pkg.license,
      env: deps.env,
      now: deps.now(),
      options,
    });
    assertValidTags(plan.tags);
    return plan;
  } catch (error) {
    throw new ImageInputError((error as Error).message);
  }
}

/** Every check that can fail on bad input happens here, before any engine or registry write. */
async function prepare(options: ImageExecutorSchema, target: ImageTaskTarget, deps: ImageTaskDeps): Promise<Prepared> {
  const { workspaceRoot, projectRoot } = target;
  if (projectRoot === undefined) throw new ImageInputError(`Project "${target.project}" is not in the workspace.`);
  const interpolate = (value: string) =>
    value.replace(/\{projectRoot\}/g, projectRoot).replace(/\{workspaceRoot\}/g, workspaceRoot);
  const absolute = (path: string) => resolve(workspaceRoot, interpolate(path));
  const { engine, reason } = await chooseEngine(options.engine ?? 'auto', deps.probe, options.platforms ?? []);
  deps.log(reason);
  const { dockerfile, contextDir } = checkBuildInputs(options, target, absolute);
  const secrets = readSecrets(options, deps.env, absolute);
  const plan = await planFor(options, target, projectRoot, deps);
  const credentials = registryCredentials(options, deps.env, secrets.secretValues);
  const signing = await prepareSigning({
    options,
    workspaceRoot,
    env: deps.env,
    registry: plan.image.registry,
    credentials,
    secretValues: secrets.secretValues,
    tools: deps.supplyChain,
    log: deps.log,
  });
  // Env secrets become 0600 files only now that every check passed (no partial writes on bad input).
  if (secrets.pending.length > 0) {
    const dir = mkdtempSync(join(tmpdir(), 'slipway-image-secrets-'));
    for (const { id, value } of secrets.pending) {
      const file = join(dir, id);
      writeFileSync(file, value, { mode: 0o600 });
      secrets.secretFiles.push({ id, file });
    }
  }
  const { secretFiles, secretValues } = secrets;
  return {
    plan,
    engine,
    contextDir,
    dockerfile,
    secretFiles,
    secretValues,
    credentials,
    push: options.push ?? true,
    signing,
  };
}

/** Registry auth for the engine, 0600 in the task's work dir: an auth.json, or a docker config dir. */
function writeRegistryAuth(
  prepared: Prepared,
  workDir: string,
  env: NodeJS.ProcessEnv,
): { authFile?: string; dockerConfigDir?: string } {
  const { credentials, plan, engine } = prepared;
  if (!credentials || !prepared.push) return {};
  const auth = {
    auths: {
      [plan.image.registry]: {
        auth: Buffer.from(`${credentials.username}:${credentials.password}`).toString('base64'),
      },
    },
  };
  if (engine.name === 'docker') {
    const dockerConfigDir = join(workDir, 'docker');
    mkdirSync(dockerConfigDir, { mode: 0o700 });
    writeFileSync(join(dockerConfigDir, 'config.json'), JSON.stringify(auth), { mode: 0o600 });
    linkDockerConfigExtras(dockerConfigDir, env);
    return { dockerConfigDir };
  }
  const authFile = join(workDir, 'auth.json');
  writeFileSync(authFile, JSON.stringify(auth), { mode: 0o600 });
  return { authFile };
}

function digestFileOf(engine: ImageEngine, workDir: string): string {
  return join(workDir, engine.name === 'docker' ? 'metadata.json' : 'digest');
}

function engineCommands(
  options: ImageExecutorSchema,
  prepared: Prepared,
  workDir: string,
  env: NodeJS.ProcessEnv,
): EngineCommand[] {
  const { plan, engine } = prepared;
  return engine.plan({
    contextDir: prepared.contextDir,
    dockerfile: prepared.dockerfile,
    target: options.target,
    refs: plan.refs,
    labels: plan.labels,
    buildArgs: plan.buildArgs,
    secrets: prepared.secretFiles,
    platforms: options.platforms ?? [],
    network: options.network,
    push: prepared.push,
    load: engine.name === 'docker' && (options.load ?? false),
    cacheFrom: options.cacheFrom ?? [],
    cacheTo: options.cacheTo ?? [],
    sbom: (options.sbom ?? false) && engine.supportsSbom,
    provenance: (options.provenance ?? false) && engine.supportsProvenance,
    insecureRegistry: plan.insecureRegistry,
    ...writeRegistryAuth(prepared, workDir, env),
    digestFile: digestFileOf(engine, workDir),
    storageDriver: engine.name === 'docker' ? undefined : (options.storageDriver ?? 'vfs'),
  });
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

/**
 * When the registry already has the content tag, the image is the same build: add the other tags
 * remotely and record it. Its labels, not this checkout, say which revision and version it holds.
 */
async function reuseByContentTag(
  client: RegistryClient,
  prepared: Prepared,
  target: ImageTaskTarget,
  deps: ImageTaskDeps,
): Promise<WrittenImageRecord | undefined> {
  const { plan, engine } = prepared;
  const existing = await client.headManifest(plan.image.path, plan.contentTag);
  if (!existing) return undefined;
  const manifest = await client.getManifest(plan.image.path, plan.contentTag);
  for (const tag of plan.tags) if (tag !== plan.contentTag) await client.putManifest(plan.image.path, tag, manifest);
  const labels = await client.getLabels(plan.image.path, plan.contentTag);
  const record: WrittenImageRecord = {
    ...recordFromPlan(plan, target.project, existing.digest, engine.name),
    ...(await recordFieldsOfIndex(client, plan.image.path, existing)),
    revision: labels['org.opencontainers.image.revision'] || plan.revision,
    version: labels['org.opencontainers.image.version'] || plan.version,
    builtAt: labels['org.opencontainers.image.created'] || plan.created,
    reused: true,
  };
  Object.assign(record, await signRecord(record, prepared, target, deps));
  const path = writeRecord(target.workspaceRoot, record);
  deps.log(
    `reused ${plan.image.full}@${existing.digest} (content tag ${plan.contentTag} already in the registry): no build; tags added: ${plan.tags.filter((t) => t !== plan.contentTag).join(' ') || '(none)'}`,
  );
  deps.log(`record ${relative(target.workspaceRoot, path)}`);
  return record;
}

function signRecord(record: WrittenImageRecord, prepared: Prepared, target: ImageTaskTarget, deps: ImageTaskDeps) {
  return signPushedImage(
    record,
    prepared.signing,
    {
      repository: prepared.plan.labels['org.opencontainers.image.source'] || target.workspaceRoot,
      startedOn: prepared.plan.created,
      targetName: target.targetName,
      env: deps.env,
      now: () => deps.now(),
    },
    deps.log,
  );
}

async function runEngine(
  commands: EngineCommand[],
  prepared: Prepared,
  cwd: string,
  deps: ImageTaskDeps,
): Promise<void> {
  const secrets = prepared.secretValues;
  for (const command of commands) {
    deps.log(`$ ${redact(formatCommand(command), secrets)}`);
    const result = await deps.run(command, secrets, cwd);
    if (result.code !== 0) {
      const tail = redact(`${result.stderr}`.trim().split('\n').slice(-15).join('\n'), secrets);
      const explained = explainEngineFailure(
        prepared.engine.name,
        `${result.stderr}\n${result.stdout}`,
        prepared.plan.image.registry,
      );
      throw new Error(
        `${prepared.engine.name} ${command.purpose} failed with exit code ${result.code}${result.timedOut ? ' (timed out)' : ''}${explained ? `: ${explained}` : ''}:\n${tail}`,
      );
    }
  }
}

/** The registry must serve the content tag, with the digest the engine reported (when it reported one). */
async function verifyPushedDigest(client: RegistryClient, prepared: Prepared, workDir: string): Promise<ManifestInfo> {
  const { plan, engine } = prepared;
  const digestFile = digestFileOf(engine, workDir);
  const pushed = existsSync(digestFile) ? engine.readDigest(readFileSync(digestFile, 'utf8')) : undefined;
  const inRegistry = await client.headManifest(plan.image.path, plan.contentTag);
  if (!inRegistry)
    throw new Error(`Pushed ${plan.image.full}:${plan.contentTag}, but the registry does not report it.`);
  if (pushed && pushed !== inRegistry.digest)
    throw new Error(
      `The engine reported digest ${pushed} but the registry serves ${inRegistry.digest} for ${plan.contentTag}.`,
    );
  return inRegistry;
}

function removeSecretFiles(prepared: Prepared | undefined): void {
  for (const secret of prepared?.secretFiles ?? []) {
    if (isAbsolute(secret.file) && secret.file.startsWith(tmpdir()) && secret.file.includes('slipway-image-secrets-')) {
      rmSync(resolve(secret.file, '..'), { recursive: true, force: true });
    }
  }
}

async function buildOrReuse(
  options: ImageExecutorSchema,
  prepared: Prepared,
  target: ImageTaskTarget,
  workDir: string,
  deps: ImageTaskDeps,
): Promise<{ success: boolean; record?: WrittenImageRecord }> {
  const { plan, engine } = prepared;
  if ((options.sbom && !engine.supportsSbom) || (options.provenance && !engine.supportsProvenance))
    deps.log(
      `warning: ${engine.name} cannot attach SBOM/provenance attestations; building without them (use --engine=docker for attestations).`,
    );
  const commands = engineCommands(options, prepared, workDir, deps.env);
  deps.log(`image ${plan.image.full}`);
  deps.log(`content tag ${plan.contentTag}`);
  deps.log(`tags ${plan.tags.join(' ')}`);
  if (options.dryRun) {
    deps.log(
      `dry run: engine ${engine.name}; would first check ${plan.image.full}:${plan.contentTag} in the registry and, if present, only add the tags remotely. Otherwise:`,
    );
    for (const command of commands) deps.log(redact(formatCommand(command), prepared.secretValues));
    return { success: true };
  }
  const { credentials } = prepared;
  const client = prepared.push
    ? deps.registry({ registry: plan.image.registry, insecure: plan.insecureRegistry, credentials })
    : undefined;
  const reused = client ? await reuseByContentTag(client, prepared, target, deps) : undefined;
  if (reused) return { success: true, record: reused };
  await runEngine(commands, prepared, target.workspaceRoot, deps);
  if (!client) {
    deps.log(`built ${plan.refs.join(' ')} locally (push=false): no registry check, no record.`);
    return { success: true };
  }
  const served = await verifyPushedDigest(client, prepared, workDir);
  const digest = served.digest;
  const record: WrittenImageRecord = {
    ...recordFromPlan(plan, target.project, digest, engine.name),
    ...(await recordFieldsOfIndex(client, plan.image.path, served)),
  };
  Object.assign(record, await signRecord(record, prepared, target, deps));
  const path = writeRecord(target.workspaceRoot, record);
  deps.log(`pushed ${plan.image.full}@${digest}`);
  deps.log(`record ${relative(target.workspaceRoot, path)}`);
  return { success: true, record };
}

/** The image task; failures are reported through `deps.error` (redacted) and `success: false`. */
export async function runImageTask(
  options: ImageExecutorSchema,
  target: ImageTaskTarget,
  deps: ImageTaskDeps = hostImageDeps,
): Promise<{ success: boolean; record?: WrittenImageRecord }> {
  let prepared: Prepared | undefined;
  let workDir: string | undefined;
  try {
    prepared = await prepare(options, target, deps);
    workDir = mkdtempSync(join(tmpdir(), `slipway-image-${target.project}-`));
    return await buildOrReuse(options, prepared, target, workDir, deps);
  } catch (error) {
    const message = error instanceof RegistryUnreachableError || error instanceof Error ? error.message : String(error);
    deps.error(`image ${target.project}: ${redact(message, prepared?.secretValues ?? [])}`);
    return { success: false };
  } finally {
    if (workDir) rmSync(workDir, { recursive: true, force: true });
    removeSecretFiles(prepared);
    cleanupSigning(prepared?.signing);
  }
}
