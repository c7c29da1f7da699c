import { getProjects, readJson, type Tree } from '@nx/devkit';
import { usedPorts } from './ports';

/** What the service generators read from the workspace before writing anything. */
export interface WorkspaceFacts {
  /** `@slipway` from the root package.json name `@slipway/source`. */
  npmScope: string;
  /** The image name prefix the base manifests use (`slipway` in `image: slipway/catalog`). */
  imagePrefix: string;
  /** The `app.kubernetes.io/part-of` value of the system. */
  partOf: string;
  /** The domain the smoke.json production URLs live under (`example.com`). */
  domain: string;
  versions: { fastify: string; typebox: string };
  usedPorts: Map<number, string>;
  /** deploy/package.json targets that run services on local ports (podman mode). */
  portTargets: string[];
}

export const DEPLOY_PACKAGE = 'deploy/package.json';

interface DeployPackage {
  nx?: { targets?: Record<string, { options?: { mode?: string; ports?: Record<string, number> | string } }> };
}

export function readWorkspaceFacts(tree: Tree): WorkspaceFacts {
  const root = readJson<{
    name?: string;
    devDependencies?: Record<string, string>;
    dependencies?: Record<string, string>;
  }>(tree, 'package.json');
  const npmScope = root.name?.startsWith('@') ? root.name.split('/')[0] : '@slipway';
  const bare = npmScope.slice(1);
  const deps = { ...root.dependencies, ...root.devDependencies };
  const deploy = tree.exists(DEPLOY_PACKAGE) ? readJson<DeployPackage>(tree, DEPLOY_PACKAGE) : {};
  const targets = Object.entries(deploy.nx?.targets ?? {});
  const portTargets = targets.filter(([, t]) => typeof t.options?.ports === 'object').map(([name]) => name);
  const smokeUrls: { project: string; baseUrl: string }[] = [];
  let domain = 'example.com';
  for (const [project, config] of getProjects(tree)) {
    const smokeFile = `${config.root}/smoke.json`;
    if (!tree.exists(smokeFile)) continue;
    const smoke = readJson<{ environments?: Record<string, { baseUrl?: string }> }>(tree, smokeFile);
    const local = smoke.environments?.['local']?.baseUrl;
    if (local) smokeUrls.push({ project, baseUrl: local });
    const production = smoke.environments?.['production']?.baseUrl;
    if (production && URL.canParse(production))
      domain = new URL(production).hostname.split('.').slice(1).join('.') || domain;
  }
  return {
    npmScope,
    imagePrefix: bare,
    partOf: bare,
    domain,
    versions: { fastify: deps['fastify'] ?? '5.2.2', typebox: deps['@sinclair/typebox'] ?? '0.34.41' },
    usedPorts: usedPorts(
      targets.map(([, t]) => (typeof t.options?.ports === 'object' ? t.options.ports : {})),
      smokeUrls,
    ),
    portTargets,
  };
}
