import type { CreateNodes, CreateNodesResult, TargetConfiguration } from '@nx/devkit';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { recordFile } from '../lib/image/record';

/** Options in nx.json: `{ "plugin": "./tools/delivery/src/plugins/image.ts", "options": { ... } }`. */
export interface ImagePluginOptions {
  /** Name of the inferred target (default `image`). */
  targetName?: string;
  /** Targets of the same project the image needs first, when the project has them (default build, prune). */
  dependsOn?: string[];
  /** Executor options for every inferred target; a project's own target config can still override them. */
  options?: Record<string, unknown>;
}

/**
 * Inputs of an image: the project's production files and those of its dependencies, the Dockerfile
 * and .dockerignore (already in `production`, listed because they define the image), and the base
 * image chosen through NODE_IMAGE. The Nx task hash of these is the image's content tag.
 */
export const IMAGE_INPUTS = [
  'production',
  '^production',
  '{projectRoot}/Dockerfile',
  '{projectRoot}/.dockerignore',
  { env: 'NODE_IMAGE' },
];

function declaredTargets(projectRoot: string, workspaceRoot: string): Set<string> {
  const names = new Set<string>();
  for (const file of ['package.json', 'project.json']) {
    const path = join(workspaceRoot, projectRoot, file);
    if (!existsSync(path)) continue;
    try {
      const json = JSON.parse(readFileSync(path, 'utf8')) as { targets?: object; nx?: { targets?: object } };
      for (const name of Object.keys((file === 'package.json' ? json.nx?.targets : json.targets) ?? {}))
        names.add(name);
    } catch {
      // An unreadable project file is reported by Nx itself.
    }
  }
  return names;
}

export const RELEASE_PUBLISH_TARGET = 'nx-release-publish';

export const createNodes: CreateNodes<ImagePluginOptions> = [
  '**/Dockerfile',
  (dockerfiles, options, context) => {
    const targetName = options?.targetName ?? 'image';
    const wanted = options?.dependsOn ?? ['build', 'prune'];
    const results: [string, CreateNodesResult][] = [];
    for (const dockerfile of dockerfiles) {
      const projectRoot = dirname(dockerfile);
      const isProject = ['package.json', 'project.json'].some((file) =>
        existsSync(join(context.workspaceRoot, projectRoot, file)),
      );
      if (!isProject || projectRoot === '.') continue;
      const declared = declaredTargets(projectRoot, context.workspaceRoot);
      // `build` is often inferred by another plugin (vite), so it is kept even when not declared; other
      // steps such as `prune` only when the project declares them.
      const dependsOn = wanted.filter((name) => name === 'build' || declared.has(name));
      const target: TargetConfiguration = {
        executor: '@slipway/delivery:image',
        // The registry decides whether an image is built (an image is not a file output), not the Nx cache.
        cache: false,
        dependsOn,
        inputs: IMAGE_INPUTS,
        options: { ...(options?.options ?? {}) },
        metadata: {
          description: `Build and push a content-tagged container image (reused when the registry already has it) and write ${recordFile('<project>')}.`,
          technologies: ['docker'],
        },
      };
      const targets: Record<string, TargetConfiguration> = { [targetName]: target };
      // The target `nx release publish` runs (the @nx/docker convention): semver tags onto the image
      // the image target pushed (or found in the registry by content), never a build of its own.
      if (!declared.has(RELEASE_PUBLISH_TARGET))
        targets[RELEASE_PUBLISH_TARGET] = {
          executor: '@slipway/delivery:release-publish',
          cache: false,
          dependsOn: [targetName],
          metadata: {
            description:
              "Add the release's semver tags (1.4.2, 1.4, 1) to the project's image in the registry, by digest.",
            technologies: ['docker'],
          },
        };
      results.push([dockerfile, { projects: { [projectRoot]: { targets } } }]);
    }
    return results;
  },
];
