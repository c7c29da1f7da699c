import {
  formatFiles,
  generateFiles,
  getProjects,
  installPackagesTask,
  joinPathFragments,
  offsetFromRoot,
  type GeneratorCallback,
  type Tree,
} from '@nx/devkit';
import { DeliveryInputError } from '../../lib/shared/errors';
import { serviceNames, validateServiceName } from '../../lib/generators/service-name';
import { choosePort } from '../../lib/generators/ports';
import { readWorkspaceFacts, type WorkspaceFacts } from '../../lib/generators/workspace-facts';
import { registerService } from '../../lib/generators/register-service';
import type { ServiceGeneratorSchema } from './schema';

export interface NormalizedServiceOptions {
  name: string;
  directory: string;
  port: number;
  database: 'postgres' | 'none';
  redis: boolean;
  description: string;
  tags: string[];
}

const TAG = /^[A-Za-z0-9][A-Za-z0-9:_./-]*$/;

/** Options → what to write, or a DeliveryInputError naming the bad value; nothing is written yet. */
export function normalizeServiceOptions(
  tree: Tree,
  options: ServiceGeneratorSchema,
  facts: WorkspaceFacts,
): NormalizedServiceOptions {
  validateServiceName(options.name);
  const name = options.name;
  const directory = (options.directory ?? `apps/${name}`).replace(/\/+$/, '');
  if (directory.startsWith('/') || directory.split('/').some((part) => part === '..' || part === '')) {
    throw new DeliveryInputError(
      `--directory "${options.directory}" is not a relative path inside the workspace`,
      `use e.g. --directory=apps/${name}`,
    );
  }
  const taken = getProjects(tree).has(name)
    ? `project "${name}" already exists`
    : tree.exists(directory)
      ? `${directory} already exists`
      : tree.exists(`deploy/k8s/base/${name}`)
        ? `deploy/k8s/base/${name} already exists`
        : undefined;
  if (taken) {
    throw new DeliveryInputError(
      `service name "${name}" is taken: ${taken}`,
      `choose another name, or remove it first with nx g @slipway/delivery:remove-service ${name}`,
    );
  }
  const tags = (options.tags ?? '')
    .split(',')
    .map((tag) => tag.trim())
    .filter(Boolean);
  const badTag = tags.find((tag) => !TAG.test(tag));
  if (badTag) {
    throw new DeliveryInputError(
      `tag "${badTag}" is not an Nx tag`,
      'use letters, digits and : _ . / -, e.g. --tags=team:payments',
    );
  }
  const database = options.database ?? 'none';
  if (database !== 'postgres' && database !== 'none') {
    throw new DeliveryInputError(
      `--database=${String(database)} is not supported`,
      'use --database=postgres or --database=none',
    );
  }
  return {
    name,
    directory,
    port: choosePort(options.port, facts.usedPorts, name),
    database,
    redis: options.redis ?? false,
    description: (options.description ?? `${name} service`).replace(/[\r\n|]+/g, ' ').trim(),
    tags,
  };
}

export async function serviceGenerator(tree: Tree, options: ServiceGeneratorSchema): Promise<GeneratorCallback> {
  const facts = readWorkspaceFacts(tree);
  const normalized = normalizeServiceOptions(tree, options, facts);
  const substitutions = {
    ...serviceNames(normalized.name),
    ...normalized,
    npmScope: facts.npmScope,
    imagePrefix: facts.imagePrefix,
    partOf: facts.partOf,
    domain: facts.domain,
    versions: facts.versions,
    offsetFromRoot: offsetFromRoot(normalized.directory),
    dot: '.',
    template: '',
  };
  generateFiles(tree, joinPathFragments(__dirname, 'files', 'app'), normalized.directory, substitutions);
  if (normalized.database === 'postgres') {
    generateFiles(tree, joinPathFragments(__dirname, 'files', 'app-postgres'), normalized.directory, substitutions);
  }
  generateFiles(
    tree,
    joinPathFragments(__dirname, 'files', 'deploy'),
    `deploy/k8s/base/${normalized.name}`,
    substitutions,
  );
  registerService(tree, { ...normalized, imageName: `${facts.imagePrefix}/${normalized.name}` });
  await formatFiles(tree);
  return () => {
    if (!options.skipInstall) installPackagesTask(tree, true);
  };
}

export default serviceGenerator;
