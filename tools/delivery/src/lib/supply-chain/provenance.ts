/**
 * SLSA v1 provenance for an image: what built it (repository, revision, workflow, builder). Pure:
 * the facts come in, the predicate goes out; cosign signs it as an in-toto attestation.
 */
export interface ProvenanceFacts {
  project: string;
  /** Browsable repository URL, or the local path when there is none. */
  repository: string;
  revision: string;
  /** GitHub: the workflow ref (owner/repo/.github/workflows/x.yml@ref); locally the Nx command. */
  workflow: string;
  /** GitHub: the run URL; locally `slipway-image-executor on <host>`. */
  builder: string;
  engine: string;
  contentTag: string;
  startedOn: string;
  finishedOn: string;
}

export const PROVENANCE_BUILD_TYPE = 'https://github.com/slipway/slipway/tools/delivery/image@v1';

export function provenancePredicate(facts: ProvenanceFacts): Record<string, unknown> {
  return {
    buildDefinition: {
      buildType: PROVENANCE_BUILD_TYPE,
      externalParameters: {
        repository: facts.repository,
        revision: facts.revision,
        workflow: facts.workflow,
        project: facts.project,
        contentTag: facts.contentTag,
      },
      internalParameters: { engine: facts.engine },
      resolvedDependencies: [
        {
          uri: `git+${facts.repository}@${facts.revision}`,
          digest: /^[0-9a-f]{40}$/.test(facts.revision) ? { gitCommit: facts.revision } : {},
        },
      ],
    },
    runDetails: {
      builder: { id: facts.builder },
      metadata: { startedOn: facts.startedOn, finishedOn: facts.finishedOn },
    },
  };
}

/** Who and where, from the GitHub Actions environment or this machine. */
export function buildContext(
  env: NodeJS.ProcessEnv,
  local: { hostname: string; command: string },
): { workflow: string; builder: string } {
  if (env['GITHUB_ACTIONS'] === 'true' && env['GITHUB_RUN_ID']) {
    const server = env['GITHUB_SERVER_URL'] ?? 'https://github.com';
    return {
      workflow: env['GITHUB_WORKFLOW_REF'] ?? env['GITHUB_WORKFLOW'] ?? 'unknown workflow',
      builder: `${server}/${env['GITHUB_REPOSITORY']}/actions/runs/${env['GITHUB_RUN_ID']}/attempts/${env['GITHUB_RUN_ATTEMPT'] ?? '1'}`,
    };
  }
  return { workflow: local.command, builder: `slipway-image-executor on ${local.hostname}` };
}
