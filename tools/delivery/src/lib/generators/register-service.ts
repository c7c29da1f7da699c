import { readJson, updateJson, writeJson, type Tree } from '@nx/devkit';
import {
  addBaseResource,
  addConfigPatch,
  addLintScope,
  addOverlayEntries,
  addReadmeRow,
  removeBaseResource,
  removeConfigPatch,
  removeLintScope,
  removeOverlayEntries,
  removeReadmeRow,
} from './workspace-edits';
import { DEPLOY_PACKAGE } from './workspace-facts';

export const BASE_KUSTOMIZATION = 'deploy/k8s/base/kustomization.yaml';
export const OVERLAYS_DIR = 'deploy/k8s/overlays';

export interface RegisteredService {
  name: string;
  directory: string;
  port: number;
  description: string;
  tags: string[];
  imageName: string;
}

function edit(tree: Tree, path: string, change: (text: string) => string): void {
  if (!tree.exists(path)) return;
  const before = tree.read(path, 'utf-8') as string;
  const after = change(before);
  if (after !== before) tree.write(path, after);
}

/** The ConfigMap patch files an overlay lists under `patches:` (those holding `<svc>-config` documents). */
function configPatchFiles(tree: Tree, overlay: string): string[] {
  const dir = `${OVERLAYS_DIR}/${overlay}`;
  return tree
    .children(dir)
    .filter((file) => /\.ya?ml$/.test(file) && file !== 'kustomization.yaml')
    .map((file) => `${dir}/${file}`)
    .filter(
      (path) =>
        /^kind:\s*ConfigMap\s*$/m.test(tree.read(path, 'utf-8') ?? '') &&
        /name:\s*\S+-config\s*$/m.test(tree.read(path, 'utf-8') ?? ''),
    );
}

function overlays(tree: Tree): string[] {
  return tree.exists(OVERLAYS_DIR)
    ? tree.children(OVERLAYS_DIR).filter((o) => tree.exists(`${OVERLAYS_DIR}/${o}/kustomization.yaml`))
    : [];
}

/** Everything outside the service's own folders that names it: base, overlays, ports, lint scope, README, tsconfig. */
export function registerService(tree: Tree, service: RegisteredService): void {
  edit(tree, BASE_KUSTOMIZATION, (text) => addBaseResource(text, service.name, BASE_KUSTOMIZATION));
  for (const overlay of overlays(tree)) {
    const file = `${OVERLAYS_DIR}/${overlay}/kustomization.yaml`;
    edit(tree, file, (text) => addOverlayEntries(text, service.name, service.imageName, file));
    for (const patch of configPatchFiles(tree, overlay))
      edit(tree, patch, (text) => addConfigPatch(text, service.name));
  }
  if (tree.exists(DEPLOY_PACKAGE)) {
    updateJson(tree, DEPLOY_PACKAGE, (pkg) => {
      for (const target of Object.values<{ options?: { ports?: unknown } }>(pkg.nx?.targets ?? {})) {
        const ports = target.options?.ports;
        if (ports && typeof ports === 'object') (ports as Record<string, number>)[service.name] = service.port;
      }
      return pkg;
    });
  }
  edit(tree, 'eslint.config.mjs', (text) => addLintScope(text, service.name));
  edit(tree, 'README.md', (text) => addReadmeRow(text, service));
  if (tree.exists('tsconfig.json')) {
    updateJson(tree, 'tsconfig.json', (config) => {
      const references: { path: string }[] = config.references ?? [];
      if (!references.some((r) => r.path === `./${service.directory}`))
        references.push({ path: `./${service.directory}` });
      return { ...config, references };
    });
  }
  if (service.tags.length > 0) {
    const pkgPath = `${service.directory}/package.json`;
    const pkg = readJson(tree, pkgPath);
    pkg.nx.tags = [...new Set([...pkg.nx.tags, ...service.tags])];
    writeJson(tree, pkgPath, pkg);
  }
}

/** The inverse of registerService, for remove-service. */
export function unregisterService(
  tree: Tree,
  service: Pick<RegisteredService, 'name' | 'directory' | 'imageName'>,
): void {
  edit(tree, BASE_KUSTOMIZATION, (text) => removeBaseResource(text, service.name, BASE_KUSTOMIZATION));
  for (const overlay of overlays(tree)) {
    const file = `${OVERLAYS_DIR}/${overlay}/kustomization.yaml`;
    edit(tree, file, (text) => removeOverlayEntries(text, service.name, service.imageName, file));
    for (const patch of configPatchFiles(tree, overlay))
      edit(tree, patch, (text) => removeConfigPatch(text, service.name));
  }
  if (tree.exists(DEPLOY_PACKAGE)) {
    updateJson(tree, DEPLOY_PACKAGE, (pkg) => {
      for (const target of Object.values<{ options?: { ports?: unknown } }>(pkg.nx?.targets ?? {})) {
        const ports = target.options?.ports;
        if (ports && typeof ports === 'object') delete (ports as Record<string, number>)[service.name];
      }
      return pkg;
    });
  }
  edit(tree, 'eslint.config.mjs', (text) => removeLintScope(text, service.name));
  edit(tree, 'README.md', (text) => removeReadmeRow(text, service.name));
  if (tree.exists('tsconfig.json')) {
    updateJson(tree, 'tsconfig.json', (config) => ({
      ...config,
      references: (config.references ?? []).filter((r: { path: string }) => r.path !== `./${service.directory}`),
    }));
  }
  const holdsDir = 'deploy/holds';
  for (const file of tree.exists(holdsDir) ? tree.children(holdsDir).filter((f) => f.endsWith('.json')) : []) {
    updateJson(tree, `${holdsDir}/${file}`, (data: { holds?: { project?: string }[] }) =>
      Array.isArray(data?.holds)
        ? { ...data, holds: data.holds.filter((hold) => hold.project !== service.name) }
        : data,
    );
  }
}
