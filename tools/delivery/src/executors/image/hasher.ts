import type { CustomHasher, Task } from '@nx/devkit';

/**
 * Options that change how or where an image is published, not what is in it. They are left out of the
 * task hash so that `--dry-run`, an extra tag or another engine yield the same content tag as the
 * real run; everything else (build args, target, platforms, Dockerfile, inputs) still counts.
 */
export const NON_CONTENT_OPTIONS = new Set([
  'dryRun',
  'dry-run',
  'engine',
  'push',
  'load',
  'tags',
  'registry',
  'repository',
  'owner',
  'cacheFrom',
  'cache-from',
  'cacheTo',
  'cache-to',
  'registryUsernameEnv',
  'registryPasswordEnv',
  'insecureRegistry',
  'storageDriver',
  'storage-driver',
  'verbose',
]);

export function contentOverrides(overrides: Task['overrides']): Task['overrides'] {
  const kept: Task['overrides'] = {};
  for (const [key, value] of Object.entries(overrides ?? {})) {
    if (key === '__overrides_unparsed__') {
      kept[key] = (value as string[]).filter(
        (arg) => !NON_CONTENT_OPTIONS.has(arg.replace(/^--?(no-)?/, '').split('=')[0] as string),
      );
    } else if (!NON_CONTENT_OPTIONS.has(key)) {
      kept[key] = value;
    }
  }
  return kept;
}

const imageHasher: CustomHasher = async (task, context) => {
  const contentTask: Task = { ...task, overrides: contentOverrides(task.overrides) };
  const taskGraph = { ...context.taskGraph, tasks: { ...context.taskGraph.tasks, [task.id]: contentTask } };
  return context.hasher.hashTask(contentTask, taskGraph, process.env);
};

export default imageHasher;
