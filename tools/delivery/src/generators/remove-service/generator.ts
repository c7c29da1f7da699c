import {
  createProjectGraphAsync,
  formatFiles,
  getProjects,
  installPackagesTask,
  type GeneratorCallback,
  type ProjectGraph,
  type Tree,
} from '@nx/devkit';
import { DeliveryInputError } from '../../lib/shared/errors';
import { unregisterService } from '../../lib/generators/register-service';
import { readWorkspaceFacts } from '../../lib/generators/workspace-facts';
import type { RemoveServiceGeneratorSchema } from './schema';

/** Projects that depend on `name` in the graph: imports, package.json and implicitDependencies alike. */
export function dependantsOf(graph: ProjectGraph, name: string): string[] {
  return Object.entries(graph.dependencies)
    .filter(([source, deps]) => source !== name && deps.some((dep) => dep.target === name))
    .map(([source]) => source)
    .sort();
}

export async function removeServiceGenerator(
  tree: Tree,
  options: RemoveServiceGeneratorSchema,
  graph?: ProjectGraph,
): Promise<GeneratorCallback> {
  const project = getProjects(tree).get(options.name);
  if (!project) {
    throw new DeliveryInputError(
      `no project named "${options.name}"`,
      `run npx nx show projects to list them, then nx g @slipway/delivery:remove-service <name>`,
    );
  }
  if (
    !tree.exists(`deploy/k8s/base/${options.name}`) ||
    project.projectType === 'library' ||
    !project.tags?.includes('type:app')
  ) {
    throw new DeliveryInputError(
      `"${options.name}" is not a service (no type:app tag or no deploy/k8s/base/${options.name})`,
      'remove-service removes what the service generator wrote; use @nx/workspace:remove for other projects',
    );
  }
  const dependants = dependantsOf(graph ?? (await createProjectGraphAsync()), options.name);
  if (dependants.length > 0) {
    throw new DeliveryInputError(
      `${options.name} is still used by ${dependants.join(', ')}`,
      `remove those dependencies first (imports, package.json, implicitDependencies), then run remove-service again`,
    );
  }
  const facts = readWorkspaceFacts(tree);
  unregisterService(tree, {
    name: options.name,
    directory: project.root,
    imageName: `${facts.imagePrefix}/${options.name}`,
  });
  tree.delete(project.root);
  tree.delete(`deploy/k8s/base/${options.name}`);
  await formatFiles(tree);
  return () => {
    if (!options.skipInstall) installPackagesTask(tree, true);
  };
}

export default removeServiceGenerator;
