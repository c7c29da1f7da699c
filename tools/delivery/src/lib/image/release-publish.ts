import type { GitFacts } from './git-facts';
import type { ImageRecord } from './record';
import type { RegistryClient } from './registry';
import { RELEASE_TAG_RULES, computeMetadataTags } from './tags';

export class ReleasePublishError extends Error {}

/**
 * The semver tags a release adds to a project's image: `1.4.2`, `1.4`, `1` for `<project>@1.4.2`
 * (a pre-release only gets its full version), computed by the one tag module as a tag build of the
 * project's release tag. No `latest`: main builds own that tag.
 */
export function releaseTagsFor(project: string, version: string, sha: string): string[] {
  const tag = `${project}@${version}`;
  const facts: GitFacts = { sha, event: 'release', ref: `refs/tags/${tag}`, tag, defaultBranch: 'main' };
  const tags = computeMetadataTags(RELEASE_TAG_RULES, facts, { project, flavor: ['latest=false'] });
  if (tags.length === 0)
    throw new ReleasePublishError(
      `Version "${version}" of ${project} is not semver (e.g. 1.4.2): fix the version in its package.json or rerun nx release version.`,
    );
  return tags;
}

export interface PublishPlan {
  project: string;
  image: string;
  digest: string;
  version: string;
  tags: string[];
}

/** Check the image record against the version being released; the plan names what will be tagged. */
export function planReleasePublish(project: string, version: string, record: ImageRecord): PublishPlan {
  if (record.project !== project)
    throw new ReleasePublishError(
      `The image record is for ${record.project}, not ${project}: run nx run ${project}:image to write dist/images/${project}.json.`,
    );
  if (record.version !== version)
    throw new ReleasePublishError(
      `${project} ${version} is being released, but its image ${record.image}@${record.digest} was built as version ${record.version ?? '(none recorded)'}: run nx run ${project}:image after nx release version so the image reports ${version}.`,
    );
  return {
    project,
    image: record.image,
    digest: record.digest,
    version,
    tags: releaseTagsFor(project, version, record.revision ?? ''),
  };
}

/**
 * Add the tags to the image already in the registry, by content: GET the manifest by its digest and
 * PUT the same bytes under each tag. No blob is pulled or pushed; nothing is built.
 */
export async function addTagsByDigest(
  client: RegistryClient,
  repositoryPath: string,
  digest: string,
  tags: readonly string[],
): Promise<void> {
  const present = await client.headManifest(repositoryPath, digest);
  if (!present)
    throw new ReleasePublishError(
      `${repositoryPath}@${digest} is not in the registry: push it first (nx run <project>:image), then publish.`,
    );
  const manifest = await client.getManifest(repositoryPath, digest);
  if (manifest.digest !== digest)
    throw new ReleasePublishError(
      `The registry returned ${manifest.digest} for ${repositoryPath}@${digest}; refusing to tag it.`,
    );
  for (const tag of tags) {
    const written = await client.putManifest(repositoryPath, tag, manifest);
    if (written !== digest)
      throw new ReleasePublishError(`Tagging ${repositoryPath}:${tag} produced ${written}, expected ${digest}.`);
  }
}
