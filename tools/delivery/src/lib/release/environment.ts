import * as path from 'node:path';
import { ENVIRONMENT_PATTERN } from '../gitops/bump-request';
import { IMAGE_RECORDS_DIR, PROJECT_PATTERN } from '../image/record';
import { DeliveryInputError, DeliveryInputErrors } from '../shared/errors';
import { splitList } from '../shared/list';

/**
 * One environment's release settings, from the `deploy:<env>` target's options (deploy/package.json)
 * with command-line overrides on top. Validated here, all problems at once, before anything runs.
 *
 *   mode podman   this machine: local GitOps repo under .local/, `podman kube play` (the local env)
 *   mode kubectl  any cluster kubectl reaches (kind, k3d, …): `kubectl apply -k` + rollout status
 *   mode gitops   commit + push; Argo CD applies; wait via `argocd app wait` or smoke's version gate
 */
export type DeployMode = 'podman' | 'kubectl' | 'gitops';
export const DEPLOY_MODES: readonly DeployMode[] = ['podman', 'kubectl', 'gitops'];

/** Option shape shared by the deploy, rollback and release-status executors (schema.json mirrors it). */
export interface EnvironmentOptions {
  environment?: string;
  /** Alias of `environment` (`nx run deploy:rollback --env=production`). */
  env?: string;
  mode?: DeployMode;
  projects?: string[] | string;
  registry?: string;
  /** Where the GitOps repository is: `local` (a private repo under stateDir, podman default) or `workspace` (this repository / remote). */
  repository?: 'local' | 'workspace';
  remote?: string;
  branch?: string;
  tokenEnv?: string;
  tokenUser?: string;
  maxPushAttempts?: number;
  overlaysDir?: string;
  holdsDir?: string;
  historyDir?: string;
  stateDir?: string;
  /** podman: ports the services listen on (host network): `{ "catalog": 3101 }` or `catalog=3101,orders=3102`. */
  ports?: Record<string, number> | string;
  /** podman: prefix of the pod names (several stacks can share one machine). */
  instance?: string;
  storageDriver?: string;
  /** podman: run tools/scripts/local-prereqs.sh first (registry + base image). */
  prereqs?: boolean;
  prereqsScript?: string;
  kubeContext?: string;
  /** kubectl, gitops: kubeconfig file (default: kubectl's own, $KUBECONFIG or ~/.kube/config). */
  kubeconfig?: string;
  /** kubectl: the kubectl binary (default: `kubectl` on PATH). */
  kubectl?: string;
  /** kubectl: file written by tools/scripts/cluster.sh start (kubeconfig, registry, kubectl defaults). */
  clusterEnv?: string;
  rolloutTimeoutSeconds?: number;
  argocdApp?: string;
  argocdTimeoutSeconds?: number;
  /** gitops: reach Argo CD with the argocd CLI (API server + token) or its Application resources through kubectl. */
  argocdAccess?: 'cli' | 'kubectl';
  /** gitops with kubectl access: namespace of the Argo CD installation. */
  argocdNamespace?: string;
  /** kubectl, gitops: `kubectl port-forward` each project's Service to 127.0.0.1:<ports[project]> (free ports when not given) for smoke. */
  portForward?: boolean;
  /** build: run the image targets; records: use the image records already in dist/images (CI builds them in an earlier job). */
  images?: 'build' | 'records';
  imageParallel?: number;
  smokeK6?: boolean;
  smokePlaywright?: boolean;
  smokeK6Duration?: string;
  smokeK6Vus?: number;
  smokeReadinessTimeoutMs?: number;
  smokeExpectTimeoutMs?: number;
  lockWaitSeconds?: number;
  lockStaleSeconds?: number;
  lockRef?: string;
  webhookUrlEnv?: string;
  autoRollback?: boolean;
  /** Name of the trust policy (deploy/trust-policies.json) every image must pass before it is deployed. */
  trustPolicy?: string;
  trustPoliciesFile?: string;
}

export interface EnvironmentConfig {
  environment: string;
  mode: DeployMode;
  /** Deployable projects (each has an image target and an entry in the overlay). */
  projects: string[];
  /** Whether `projects` was given explicitly (names a held project → releases its hold). */
  projectsExplicit: boolean;
  registry: string;
  repository: 'local' | 'workspace';
  remote: string;
  branch?: string;
  tokenEnv: string;
  tokenUser: string;
  maxPushAttempts: number;
  overlaysDir: string;
  holdsDir: string;
  historyDir: string;
  /** Absolute. */
  stateDir: string;
  ports: Record<string, number>;
  instance: string;
  storageDriver: string;
  prereqs: boolean;
  prereqsScript: string;
  kubeContext?: string;
  /** Absolute. */
  kubeconfig?: string;
  kubectl?: string;
  rolloutTimeoutSeconds: number;
  argocdApp: string;
  argocdTimeoutSeconds: number;
  argocdAccess: 'cli' | 'kubectl';
  argocdNamespace: string;
  portForward: boolean;
  images: 'build' | 'records';
  imageParallel: number;
  smoke: {
    k6: boolean;
    playwright: boolean;
    k6Duration?: string;
    k6Vus?: number;
    readinessTimeoutMs?: number;
    expectTimeoutMs?: number;
  };
  lockWaitSeconds: number;
  lockStaleSeconds: number;
  lockRef: string;
  webhookUrlEnv: string;
  autoRollback: boolean;
  /** Unset: images are deployed without verification (the summary says "unverified"). */
  trustPolicy?: string;
  trustPoliciesFile: string;
}

/** The product's default ports on one machine (README, smoke.json environments.local). */
export const DEFAULT_LOCAL_PORTS: Readonly<Record<string, number>> = {
  catalog: 3101,
  orders: 3102,
  web: 4300,
};
export const DEFAULT_REGISTRY = '127.0.0.1:5000';
const REGISTRY_PATTERN = /^[a-zA-Z0-9.-]+(?::[0-9]{1,5})?$/;
const INSTANCE_PATTERN = /^[a-z0-9][a-z0-9-]{0,30}$/;
const DURATION_PATTERN = /^[0-9]+(ms|s|m)$/;
const LOCK_REF_PATTERN = /^refs\/[A-Za-z0-9._/-]+$/;

/** `catalog=3601,orders=3602` (or an object) → `{ catalog: 3601, orders: 3602 }`; problems are collected. */
export function parsePorts(
  value: Record<string, number> | string | undefined,
  problems: DeliveryInputError[],
): Record<string, number> {
  if (value === undefined) return {};
  const entries: [string, unknown][] =
    typeof value === 'string'
      ? splitList(value).map((pair) => {
          const eq = pair.indexOf('=');
          return eq <= 0 ? [pair, undefined] : [pair.slice(0, eq).trim(), pair.slice(eq + 1).trim()];
        })
      : Object.entries(value);
  const ports: Record<string, number> = {};
  for (const [project, raw] of entries) {
    const port = typeof raw === 'number' ? raw : typeof raw === 'string' && /^[0-9]+$/.test(raw) ? Number(raw) : NaN;
    if (!PROJECT_PATTERN.test(project) || !Number.isInteger(port) || port < 1 || port > 65535) {
      problems.push(
        new DeliveryInputError(
          `ports: '${project}=${String(raw)}' is not <project>=<port 1-65535>`,
          'e.g. --ports=catalog=3101,orders=3102,web=4300',
        ),
      );
      continue;
    }
    ports[project] = port;
  }
  const byPort = new Map<number, string>();
  for (const [project, port] of Object.entries(ports)) {
    const other = byPort.get(port);
    if (other)
      problems.push(
        new DeliveryInputError(
          `ports: ${other} and ${project} both use port ${port}`,
          'give every service its own port',
        ),
      );
    byPort.set(port, project);
  }
  return ports;
}

function positiveInt(
  value: unknown,
  name: string,
  fallback: number,
  problems: DeliveryInputError[],
  max = 86_400,
): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > max) {
    problems.push(
      new DeliveryInputError(
        `${name} '${String(value)}' is not a whole number between 0 and ${max}`,
        `pass --${name}=<0..${max}>`,
      ),
    );
    return fallback;
  }
  return value;
}

export interface ResolveEnvironmentContext {
  workspaceRoot: string;
  /** Projects that can be deployed (have an image target), for defaults and for naming unknown ones. */
  deployableProjects: string[];
  env?: NodeJS.ProcessEnv;
}

/** Validate and complete the options of one environment. Throws one error listing every problem. */
type Problems = DeliveryInputError[];

/** The environment's name: --environment or its alias --env (they must agree), a valid name. */
function resolveName(options: EnvironmentOptions, problems: Problems): string | undefined {
  const environment = options.environment ?? options.env;
  if (options.environment && options.env && options.environment !== options.env) {
    problems.push(
      new DeliveryInputError(
        `--env=${options.env} and --environment=${options.environment} disagree`,
        'give one of them',
      ),
    );
  }
  if (!environment) {
    problems.push(
      new DeliveryInputError(
        'no environment given',
        'pass --env=<local|staging|production>, or run a configured target: nx run deploy:local',
      ),
    );
  } else if (!ENVIRONMENT_PATTERN.test(environment)) {
    problems.push(
      new DeliveryInputError(
        `environment '${environment}' is not a valid name (lowercase letters, digits and '-')`,
        'pass --env=<local|staging|production>',
      ),
    );
  }
  return environment;
}

function resolveMode(options: EnvironmentOptions, environment: string | undefined, problems: Problems): DeployMode {
  const mode = options.mode ?? (environment === 'local' ? 'podman' : 'gitops');
  if (!DEPLOY_MODES.includes(mode)) {
    problems.push(
      new DeliveryInputError(
        `mode '${String(mode)}' is not one of ${DEPLOY_MODES.join(', ')}`,
        'set "mode" in the deploy target of deploy/package.json',
      ),
    );
  }
  return mode;
}

/** The projects to deploy: those asked for (each must have an image target), else every deployable one. */
function resolveProjects(
  options: EnvironmentOptions,
  context: ResolveEnvironmentContext,
  problems: Problems,
): { projects: string[]; requested: string[] } {
  const requested = splitList(options.projects);
  for (const p of requested) {
    if (!context.deployableProjects.includes(p)) {
      problems.push(
        new DeliveryInputError(
          `project '${p}' can not be deployed: it has no image target`,
          `use one of: ${context.deployableProjects.join(', ') || '(no project has an image target)'}`,
        ),
      );
    }
  }
  const projects = requested.length > 0 ? [...new Set(requested)] : [...context.deployableProjects].sort();
  if (projects.length === 0)
    problems.push(
      new DeliveryInputError('no deployable project', 'add a Dockerfile to a project so it gets an image target'),
    );

  return { projects, requested };
}

/**
 * Settings that are names or patterns: registry, repository, ports, pod prefix, k6 duration, lock ref,
 * images, Argo CD access (and whether a port-forward fits the mode).
 */
function resolveNamedSettings(
  options: EnvironmentOptions,
  environment: string | undefined,
  mode: DeployMode,
  env: NodeJS.ProcessEnv,
  problems: Problems,
) {
  const registry = options.registry ?? env['SLIPWAY_REGISTRY'] ?? DEFAULT_REGISTRY;
  if (!REGISTRY_PATTERN.test(registry)) {
    problems.push(
      new DeliveryInputError(
        `registry '${registry}' is not host[:port]`,
        'e.g. --registry=127.0.0.1:5000 or --registry=ghcr.io',
      ),
    );
  }
  const repository = options.repository ?? (mode === 'podman' ? 'local' : 'workspace');
  if (repository !== 'local' && repository !== 'workspace') {
    problems.push(
      new DeliveryInputError(
        `repository '${String(repository)}' is not local or workspace`,
        'local: a private GitOps repo under stateDir; workspace: this repository (or --remote)',
      ),
    );
  }
  const ports = parsePorts(options.ports, problems);
  const instance = options.instance ?? `slipway-${environment ?? 'local'}`;
  if (!INSTANCE_PATTERN.test(instance)) {
    problems.push(
      new DeliveryInputError(
        `instance '${instance}' is not a valid pod name prefix (lowercase letters, digits, '-', ≤ 31)`,
        'e.g. --instance=slipway-local',
      ),
    );
  }
  const k6Duration = options.smokeK6Duration;
  if (k6Duration !== undefined && !DURATION_PATTERN.test(k6Duration)) {
    problems.push(new DeliveryInputError(`smokeK6Duration '${k6Duration}' is not a k6 duration`, "e.g. '10s' or '1m'"));
  }
  const lockRef = options.lockRef ?? `refs/slipway/locks/${environment ?? 'local'}`;
  if (!LOCK_REF_PATTERN.test(lockRef) || lockRef.includes('..')) {
    problems.push(
      new DeliveryInputError(`lockRef '${lockRef}' is not a git ref name`, 'e.g. refs/slipway/locks/production'),
    );
  }
  const argocdAccess = options.argocdAccess ?? 'cli';
  if (argocdAccess !== 'cli' && argocdAccess !== 'kubectl') {
    problems.push(
      new DeliveryInputError(
        `argocdAccess '${String(argocdAccess)}' is not cli or kubectl`,
        'cli: the argocd CLI with ARGOCD_SERVER and ARGOCD_AUTH_TOKEN; kubectl: the Application resources through the Kubernetes API',
      ),
    );
  }
  if (options.portForward && mode === 'podman') {
    problems.push(
      new DeliveryInputError(
        'portForward is for cluster modes (kubectl, gitops); podman services already listen on 127.0.0.1',
        'remove portForward from the podman environment',
      ),
    );
  }
  const images = options.images ?? 'build';
  if (images !== 'build' && images !== 'records') {
    problems.push(
      new DeliveryInputError(
        `images '${String(images)}' is not build or records`,
        `build: run the image targets; records: use ${IMAGE_RECORDS_DIR} as it is`,
      ),
    );
  }
  return { registry, repository, ports, instance, k6Duration, lockRef, images, argocdAccess };
}

/** podman runs every service on the host network: each deployed project needs a port. */
function checkLocalPorts(config: EnvironmentConfig, context: ResolveEnvironmentContext, problems: Problems): void {
  const { mode, projects } = config;
  if (mode === 'podman') {
    const missing = projects.filter((p) => context.deployableProjects.includes(p) && config.ports[p] === undefined);
    if (missing.length > 0) {
      problems.push(
        new DeliveryInputError(
          `no port for ${missing.join(', ')} (podman runs every service on the host network)`,
          `add them to "ports", e.g. --ports=${missing.map((p, i) => `${p}=${3110 + i}`).join(',')}`,
        ),
      );
    }
  }
}

export function resolveEnvironment(options: EnvironmentOptions, context: ResolveEnvironmentContext): EnvironmentConfig {
  const env = context.env ?? process.env;
  const problems: DeliveryInputError[] = [];
  const environment = resolveName(options, problems);
  const mode = resolveMode(options, environment, problems);
  const { projects, requested } = resolveProjects(options, context, problems);
  const { registry, repository, ports, instance, k6Duration, lockRef, images, argocdAccess } = resolveNamedSettings(
    options,
    environment,
    mode,
    env,
    problems,
  );
  const config: EnvironmentConfig = {
    environment: environment ?? '',
    mode,
    projects,
    projectsExplicit: requested.length > 0,
    registry,
    repository,
    remote: options.remote ?? 'origin',
    branch: options.branch,
    tokenEnv: options.tokenEnv ?? 'GITOPS_TOKEN',
    tokenUser: options.tokenUser ?? 'x-access-token',
    maxPushAttempts: positiveInt(options.maxPushAttempts, 'maxPushAttempts', 5, problems, 20),
    overlaysDir: options.overlaysDir ?? 'deploy/k8s/overlays',
    holdsDir: options.holdsDir ?? 'deploy/holds',
    historyDir: options.historyDir ?? 'deploy/history',
    stateDir: path.resolve(context.workspaceRoot, options.stateDir ?? '.local/deploy'),
    ports: mode === 'podman' ? { ...DEFAULT_LOCAL_PORTS, ...ports } : ports,
    instance,
    storageDriver: options.storageDriver ?? env['STORAGE_DRIVER'] ?? 'vfs',
    prereqs: options.prereqs ?? mode === 'podman',
    prereqsScript: options.prereqsScript ?? 'tools/scripts/local-prereqs.sh',
    kubeContext: options.kubeContext,
    ...(options.kubeconfig ? { kubeconfig: path.resolve(context.workspaceRoot, options.kubeconfig) } : {}),
    ...(options.kubectl ? { kubectl: options.kubectl } : {}),
    rolloutTimeoutSeconds: positiveInt(options.rolloutTimeoutSeconds, 'rolloutTimeoutSeconds', 300, problems),
    argocdApp: options.argocdApp ?? `slipway-${environment ?? 'local'}`,
    argocdTimeoutSeconds: positiveInt(options.argocdTimeoutSeconds, 'argocdTimeoutSeconds', 600, problems),
    argocdAccess,
    argocdNamespace: options.argocdNamespace ?? 'argocd',
    portForward: options.portForward ?? false,
    images,
    imageParallel: Math.max(1, positiveInt(options.imageParallel, 'imageParallel', 2, problems, 16)),
    smoke: {
      k6: options.smokeK6 ?? true,
      playwright: options.smokePlaywright ?? true,
      k6Duration,
      k6Vus:
        options.smokeK6Vus === undefined
          ? undefined
          : Math.max(1, positiveInt(options.smokeK6Vus, 'smokeK6Vus', 1, problems, 1000)),
      readinessTimeoutMs:
        options.smokeReadinessTimeoutMs === undefined
          ? undefined
          : positiveInt(options.smokeReadinessTimeoutMs, 'smokeReadinessTimeoutMs', 60_000, problems, 3_600_000),
      expectTimeoutMs:
        options.smokeExpectTimeoutMs === undefined
          ? undefined
          : positiveInt(options.smokeExpectTimeoutMs, 'smokeExpectTimeoutMs', 60_000, problems, 3_600_000),
    },
    lockWaitSeconds: positiveInt(options.lockWaitSeconds, 'lockWaitSeconds', mode === 'podman' ? 0 : 600, problems),
    lockStaleSeconds: positiveInt(options.lockStaleSeconds, 'lockStaleSeconds', 3600, problems, 7 * 86_400),
    lockRef,
    webhookUrlEnv: options.webhookUrlEnv ?? 'SLIPWAY_WEBHOOK_URL',
    autoRollback: options.autoRollback ?? true,
    trustPolicy: options.trustPolicy,
    trustPoliciesFile: options.trustPoliciesFile ?? 'deploy/trust-policies.json',
  };
  checkLocalPorts(config, context, problems);
  if (problems.length > 0) throw problems.length === 1 ? problems[0] : new DeliveryInputErrors(problems);
  return config;
}

/** Base URL of a project in a podman environment (host network, loopback). */
export function localUrl(config: Pick<EnvironmentConfig, 'ports'>, project: string): string | undefined {
  const port = config.ports[project];
  return port === undefined ? undefined : `http://127.0.0.1:${port}`;
}
