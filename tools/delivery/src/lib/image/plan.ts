import { GitFacts } from './git-facts';
import { buildLabels } from './labels';
import { ImageName, isLoopbackRegistry, resolveImageName } from './reference';
import { DEFAULT_TAG_RULES, computeMetadataTags, contentTagFromHash } from './tags';

/** What planImage needs: options already interpolated, facts already gathered. */
export interface PlanInput {
  project: string;
  taskHash: string;
  git: GitFacts;
  /** package.json facts of the project. */
  packageVersion?: string;
  packageDescription?: string;
  packageLicense?: string;
  env: NodeJS.ProcessEnv;
  now: Date;
  options: {
    registry?: string;
    repository?: string;
    owner?: string;
    tags?: readonly string[];
    /** docker/metadata-action `flavor` lines: latest=auto|true|false, prefix=, suffix=, onlatest=. */
    flavor?: readonly string[];
    labels?: Record<string, string>;
    buildArgs?: Record<string, string>;
    buildArgsFromEnv?: readonly string[];
    version?: string;
    insecureRegistry?: boolean;
  };
}

export interface ImagePlan {
  image: ImageName;
  contentTag: string;
  /** Metadata tags first (highest priority first), the content tag last. */
  tags: string[];
  /** `image:tag` for every tag, content tag first (it is pushed first and carries the digest). */
  refs: string[];
  labels: Record<string, string>;
  buildArgs: Record<string, string>;
  version: string;
  revision: string;
  created: string;
  insecureRegistry: boolean;
}

export const DEFAULT_REGISTRY = '127.0.0.1:5000';
export const DEFAULT_OWNER = 'slipway';
/** Same default as schema.json: the base image comes in through NODE_IMAGE. */
export const DEFAULT_BUILD_ARGS_FROM_ENV: readonly string[] = ['NODE_IMAGE'];

export function planImage(input: PlanInput): ImagePlan {
  const { options, git, env } = input;
  const registry = options.registry ?? env['SLIPWAY_REGISTRY'] ?? DEFAULT_REGISTRY;
  const owner = options.owner ?? env['GITHUB_REPOSITORY_OWNER'] ?? DEFAULT_OWNER;
  const image = resolveImageName(registry, options.repository, owner, input.project);
  const contentTag = contentTagFromHash(input.taskHash);
  const metadataTags = computeMetadataTags(options.tags ?? DEFAULT_TAG_RULES, git, {
    flavor: options.flavor,
    project: input.project,
    now: input.now,
  }).filter((tag) => tag !== contentTag);
  const tags = [...metadataTags, contentTag];
  const version = options.version ?? input.packageVersion ?? '0.0.0';
  const created = input.now.toISOString();
  const labels = buildLabels(
    {
      title: input.project,
      description: input.packageDescription ?? '',
      url: git.repositoryUrl ?? '',
      source: git.repositoryUrl ?? '',
      version,
      created,
      revision: git.sha,
      licenses: input.packageLicense ?? '',
    },
    options.labels,
  );
  const buildArgs: Record<string, string> = {};
  for (const name of options.buildArgsFromEnv ?? DEFAULT_BUILD_ARGS_FROM_ENV) {
    const value = env[name];
    if (value !== undefined && value !== '') buildArgs[name] = value;
  }
  Object.assign(buildArgs, options.buildArgs ?? {});
  // The running service reports these from /health; they always describe this build.
  buildArgs['APP_VERSION'] = version;
  buildArgs['APP_REVISION'] = git.sha;
  return {
    image,
    contentTag,
    tags,
    refs: [contentTag, ...metadataTags].map((tag) => `${image.full}:${tag}`),
    labels,
    buildArgs,
    version,
    revision: git.sha,
    created,
    insecureRegistry: options.insecureRegistry ?? isLoopbackRegistry(image.registry),
  };
}
