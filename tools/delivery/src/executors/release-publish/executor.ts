import type { ExecutorContext } from '@nx/devkit';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { isLoopbackRegistry } from '../../lib/image/reference';
import { readImageRecord, recordFile, recordPath } from '../../lib/image/record';
import { HttpRegistryClient, type RegistryClient, type RegistryCredentials } from '../../lib/image/registry';
import { ReleasePublishError, addTagsByDigest, planReleasePublish } from '../../lib/image/release-publish';
import { splitRepository } from '../../lib/release/registry-access';
import { redactCredentials } from '../../lib/shared/redact';
import type { ReleasePublishExecutorSchema } from './schema';

export interface ReleasePublishDeps {
  registry(options: { registry: string; insecure: boolean; credentials?: RegistryCredentials }): RegistryClient;
  env: NodeJS.ProcessEnv;
  log(message: string): void;
  error(message: string): void;
}

export const hostDeps: ReleasePublishDeps = {
  registry: (options) => new HttpRegistryClient(options),
  env: process.env,
  log: (message) => console.log(message),
  error: (message) => console.error(message),
};

function readJson<T>(path: string, fix: string): T {
  if (!existsSync(path)) throw new ReleasePublishError(`${path} does not exist: ${fix}`);
  return JSON.parse(readFileSync(path, 'utf8')) as T;
}

/** `nx release publish` → `<project>:nx-release-publish`: semver tags onto the image by digest. */
export async function runReleasePublish(
  options: ReleasePublishExecutorSchema,
  context: ExecutorContext,
  deps: ReleasePublishDeps = hostDeps,
): Promise<{ success: boolean }> {
  const project = context.projectName as string;
  const password = deps.env[options.registryPasswordEnv ?? 'REGISTRY_PASSWORD'];
  try {
    const root = context.projectsConfigurations?.projects[project]?.root;
    if (!root) throw new ReleasePublishError(`Project ${project} is not in the workspace.`);
    const versionData = options.nxReleaseVersionData?.[project];
    if (versionData && !versionData.newVersion) {
      deps.log(`${project}: no new version in this release; nothing to publish.`);
      return { success: true };
    }
    const version =
      versionData?.newVersion ??
      readJson<{ version?: string }>(join(context.root, root, 'package.json'), 'the project needs a package.json.')
        .version ??
      '';
    if (!existsSync(recordPath(context.root, project)))
      throw new ReleasePublishError(
        `${recordFile(project)} does not exist: run nx run ${project}:image first (the nx-release-publish target depends on it).`,
      );
    const record = await readImageRecord(recordPath(context.root, project), recordFile(project));
    const plan = planReleasePublish(project, version, record);
    const { registry, path } = splitRepository(plan.image);
    deps.log(`${project}@${version}: ${plan.image}@${plan.digest} ← ${plan.tags.join(', ')}`);
    if (options.dryRun) {
      deps.log('dry run: no tag added.');
      return { success: true };
    }
    const username = deps.env[options.registryUsernameEnv ?? 'REGISTRY_USERNAME'];
    const client = deps.registry({
      registry,
      insecure: isLoopbackRegistry(registry),
      credentials: username && password ? { username, password } : undefined,
    });
    await addTagsByDigest(client, path, plan.digest, plan.tags);
    deps.log(`${project}: tagged ${plan.tags.map((tag) => `${plan.image}:${tag}`).join(', ')}`);
    return { success: true };
  } catch (error) {
    deps.error(`${project}: ${redactCredentials((error as Error).message, [password])}`);
    return { success: false };
  }
}

export default async function releasePublishExecutor(
  options: ReleasePublishExecutorSchema,
  context: ExecutorContext,
): Promise<{ success: boolean }> {
  return runReleasePublish(options, context);
}
