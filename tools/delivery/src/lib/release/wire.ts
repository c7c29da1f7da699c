import * as os from 'node:os';
import * as path from 'node:path';
import type { ExecutorContext } from '@nx/devkit';
import { applyClusterEnv } from '../cluster/cluster-env';
import { GitOpsCluster } from '../cluster/gitops';
import { freeLoopbackPorts } from '../cluster/port-forward';
import { KubectlCluster } from '../cluster/kubectl';
import { PodmanCluster } from '../cluster/podman';
import type { ClusterAdapter } from '../cluster/types';
import { isLoopbackRegistry } from '../image/reference';
import { runProcess } from '../shared/process';
import { localUrl, type EnvironmentConfig, type EnvironmentOptions } from './environment';
import { UrlRepository, WorkingCopyRepository, type GitOpsRepository, type RepositoryGitOptions } from './gitops-repo';
import { buildImages, ensureLocalPrerequisites, readBuiltImageRecords } from './images';
import { ensureLocalGitOps, localGitOpsPaths } from './local-gitops';
import { newHolder } from './lock';
import { createNotifier } from './notify';
import { createRegistryAccess } from './registry-access';
import type { ReleaseDeps } from './release';
import { createSmokeStep } from './smoke-step';
import { workloadWatch } from './workload-health';
import { createImageGate } from '../supply-chain/gate';

/**
 * Builds the real adapters for one environment from its configuration: the composition root the
 * deploy, rollback and status executors share. Tests build their own deps instead.
 */
export interface WireInput {
  workspaceRoot: string;
  config: EnvironmentConfig;
  projectRoots: Record<string, string>;
  log: (line: string) => void;
  trigger: string;
  env?: NodeJS.ProcessEnv;
}

export function actorName(env: NodeJS.ProcessEnv): string {
  if (env['SLIPWAY_ACTOR']) return env['SLIPWAY_ACTOR'];
  if (env['GITHUB_ACTOR']) return `${env['GITHUB_ACTOR']} (GitHub Actions run ${env['GITHUB_RUN_ID'] ?? '?'})`;
  return `${os.userInfo().username}@${os.hostname()}`;
}

export async function sourceRevision(workspaceRoot: string, env: NodeJS.ProcessEnv): Promise<string | undefined> {
  if (env['GITHUB_SHA']) return env['GITHUB_SHA'];
  const r = await runProcess('git', ['rev-parse', 'HEAD'], {
    cwd: workspaceRoot,
    timeoutMs: 30_000,
  }).catch(() => undefined);
  return r && r.code === 0 ? r.stdout.trim() : undefined;
}

function isUrlRemote(remote: string): boolean {
  return remote.includes('://') || /^[^/\s]+@[^/\s]+:/.test(remote) || path.isAbsolute(remote);
}

export function gitOptions(config: EnvironmentConfig, env: NodeJS.ProcessEnv): RepositoryGitOptions {
  return {
    remote: config.remote,
    branch: config.branch,
    token: env[config.tokenEnv] || undefined,
    tokenUser: config.tokenUser,
    maxAttempts: config.maxPushAttempts,
  };
}

/** The environment's GitOps repository and how to prepare it before a release. */
export function openRepository(input: WireInput): {
  repo: GitOpsRepository;
  prepare: () => Promise<void>;
  overlayRoot?: string;
} {
  const { config, workspaceRoot, log } = input;
  const env = input.env ?? process.env;
  if (config.repository === 'local') {
    const { root } = localGitOpsPaths(config.stateDir, config.environment);
    const repo = new WorkingCopyRepository(
      root,
      { remote: 'origin', branch: 'main', maxAttempts: config.maxPushAttempts },
      'file',
      log,
    );
    return {
      repo,
      prepare: async () => {
        await ensureLocalGitOps({
          sourceRoot: workspaceRoot,
          environment: config.environment,
          stateDir: config.stateDir,
          overlaysDir: config.overlaysDir,
          holdsDir: config.holdsDir,
          sourceRevision: await sourceRevision(workspaceRoot, env),
          log,
        });
        await repo.refresh();
      },
    };
  }
  const options = gitOptions(config, env);
  const repo = isUrlRemote(config.remote)
    ? new UrlRepository(options, workspaceRoot, log)
    : new WorkingCopyRepository(workspaceRoot, options, 'ref', log);
  return { repo, prepare: () => repo.refresh() };
}

/** Where deploy/argocd lives in the workspace (the AppProject and Applications a local cluster registers). */
export const ARGOCD_DIR = 'deploy/argocd';

export function openCluster(
  config: EnvironmentConfig,
  env: NodeJS.ProcessEnv = process.env,
  workspaceRoot?: string,
): ClusterAdapter {
  if (config.mode === 'podman') {
    return new PodmanCluster({
      instance: config.instance,
      ports: config.ports,
      storageDriver: config.storageDriver,
      insecureRegistries: isLoopbackRegistry(config.registry) ? [config.registry] : [],
      workDir: path.join(localGitOpsPaths(config.stateDir, config.environment).dir, 'podman'),
    });
  }
  if (config.mode === 'kubectl')
    return new KubectlCluster({
      context: config.kubeContext,
      kubeconfig: config.kubeconfig,
      kubectl: config.kubectl,
      rolloutTimeoutSeconds: config.rolloutTimeoutSeconds,
    });
  // A local GitOps repository is only reachable by an Argo CD on this machine: register the
  // environment's Application pointing at it (file://), from deploy/argocd.
  const register =
    config.argocdAccess === 'kubectl' && config.repository === 'local' && workspaceRoot
      ? {
          workspaceRoot,
          argocdDir: ARGOCD_DIR,
          repoURL: `file://${localGitOpsPaths(config.stateDir, config.environment).remote}`,
          branch: 'main',
          path: `${config.overlaysDir}/${config.environment}`,
        }
      : undefined;
  return new GitOpsCluster({
    app: config.argocdApp,
    timeoutSeconds: config.argocdTimeoutSeconds,
    env,
    access: config.argocdAccess,
    kubeconfig: config.kubeconfig,
    kubeContext: config.kubeContext,
    argocdNamespace: config.argocdNamespace,
    register,
    forwardPorts: config.portForward ? config.ports : undefined,
  });
}

/** Ports for the port-forwards of a cluster environment: those configured, free ones for the rest. */
export async function withForwardPorts(config: EnvironmentConfig): Promise<EnvironmentConfig> {
  if (!config.portForward) return config;
  const missing = config.projects.filter((p) => config.ports[p] === undefined);
  const free = await freeLoopbackPorts(missing.length);
  return {
    ...config,
    ports: { ...config.ports, ...Object.fromEntries(missing.map((p, i) => [p, free[i] as number])) },
  };
}

export function localUrls(config: EnvironmentConfig): Record<string, string> {
  // gitops: only when it port-forwards; podman: every project on its port; kubectl: the projects
  // given a port (e.g. a NodePort on 127.0.0.1).
  if (config.mode === 'gitops' && !config.portForward) return {};
  return Object.fromEntries(
    config.projects.filter((p) => config.ports[p] !== undefined).map((p) => [p, localUrl(config, p) as string]),
  );
}

export async function wireRelease(input: WireInput): Promise<ReleaseDeps> {
  const { workspaceRoot, log } = input;
  const config = await withForwardPorts(input.config);
  const env = input.env ?? process.env;
  const { repo, prepare } = openRepository({ ...input, config });
  const actor = actorName(env);
  const urls = localUrls(config);
  const cluster = openCluster(config, env, workspaceRoot);
  const overlayDir = (): string | undefined => {
    const root = repo.checkout();
    return root ? path.join(root, config.overlaysDir, config.environment) : undefined;
  };
  // Resolved before anything runs: an unknown policy, a missing key or a missing cosign stop here.
  const verification = config.trustPolicy
    ? createImageGate({
        workspaceRoot,
        trustPolicy: config.trustPolicy,
        trustPoliciesFile: config.trustPoliciesFile,
        env,
        log,
      })
    : undefined;
  if (!verification)
    log(`warning: ${config.environment} has no trustPolicy: images are deployed without signature verification`);
  return {
    config,
    repo,
    // An unreachable cluster is said before any image is built or anything is committed.
    prepare: async () => {
      await cluster.preflight?.();
      await prepare();
    },
    cluster,
    images: async (projects) => {
      if (config.images === 'records') return readBuiltImageRecords(workspaceRoot, projects, config.registry);
      const extra = config.prereqs
        ? await ensureLocalPrerequisites({
            workspaceRoot,
            script: config.prereqsScript,
            registry: config.registry,
            log,
          })
        : {};
      return buildImages({
        workspaceRoot,
        projects,
        registry: config.registry,
        parallel: config.imageParallel,
        env: extra,
        log,
      });
    },
    smoke: createSmokeStep({
      workspaceRoot,
      environment: config.environment,
      projectRoots: input.projectRoots,
      settings: config.smoke,
      baseUrls: urls,
      log,
      env,
      watch: (project) => workloadWatch(cluster, overlayDir, project, env),
    }),
    registry: createRegistryAccess({ env }),
    verifyImages: verification?.gate,
    lock: repo.lock(newHolder(config.environment, actor, input.trigger, new Date()), {
      waitMs: config.lockWaitSeconds * 1000,
      staleMs: config.lockStaleSeconds * 1000,
      ref: config.lockRef,
      stateDir: config.stateDir,
      log,
    }),
    notify: createNotifier({ log, env, webhookUrlEnv: config.webhookUrlEnv }),
    urls,
    log,
    now: () => new Date(),
    actor,
    trigger: input.trigger,
    sourceRevision: await sourceRevision(workspaceRoot, env),
  };
}

/** Projects of the workspace that can be deployed (they have an image target), and every project's root. */
export function workspaceProjects(context: ExecutorContext): {
  deployable: string[];
  roots: Record<string, string>;
} {
  const projects = context.projectsConfigurations?.projects ?? {};
  const deployable = Object.entries(projects)
    .filter(([, p]) => p.targets?.['image'])
    .map(([name]) => name)
    .sort();
  return {
    deployable,
    roots: Object.fromEntries(Object.entries(projects).map(([name, p]) => [name, p.root])),
  };
}

/** The options of `deploy:<env>` (deploy/package.json) with `overrides` on top: rollback and status share them. */
export function environmentOptions(
  context: ExecutorContext,
  environment: string | undefined,
  overrides: EnvironmentOptions,
): EnvironmentOptions {
  const project = context.projectName ? context.projectsConfigurations?.projects[context.projectName] : undefined;
  const target = environment ? project?.targets?.[environment] : undefined;
  const base = target?.executor === '@slipway/delivery:deploy' ? ((target.options ?? {}) as EnvironmentOptions) : {};
  const defined = Object.fromEntries(Object.entries(overrides).filter(([, v]) => v !== undefined));
  return applyClusterEnv({ ...base, ...defined, environment }, context.root);
}
