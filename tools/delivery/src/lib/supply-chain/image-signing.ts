import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ImageRecord } from '../image/record';
import type { SupplyChainTools, SupplyChainToolOptions } from './adapters';
import { buildContext } from './provenance';
import { signImage } from './sign-image';
import { resolveSigning, type SigningOptions } from './signing';
import type { SigningIdentity } from './types';

/**
 * The image task's signing step, in two halves: `prepareSigning` before anything is built or pushed
 * (who signs, the tools present, the key readable and its password right), `signPushedImage` after
 * the push or the reuse, before the record is written (the record names what was added).
 */
export interface PreparedSigning {
  identity: SigningIdentity;
  tools: SupplyChainTools;
  /** Temporary docker config holding the registry credentials for cosign; removed by `cleanup`. */
  dockerConfigDir?: string;
}

export async function prepareSigning(input: {
  options: SigningOptions & { push?: boolean; dryRun?: boolean };
  workspaceRoot: string;
  env: NodeJS.ProcessEnv;
  registry: string;
  credentials?: { username: string; password: string };
  /** Secret values the task redacts: the key password is added. */
  secretValues: string[];
  tools: (options: SupplyChainToolOptions) => SupplyChainTools;
  log: (line: string) => void;
}): Promise<PreparedSigning | undefined> {
  if (input.options.push === false || input.options.dryRun) return undefined;
  const resolved = resolveSigning(input.options, input.workspaceRoot, input.env);
  if (resolved.warning) input.log(`warning: ${resolved.warning}`);
  const identity = resolved.identity;
  if (!identity) return undefined;
  if (identity.kind === 'key') input.secretValues.push(identity.password);
  let dockerConfigDir: string | undefined;
  if (input.credentials) {
    // cosign reads registry credentials from a docker config, never from its command line.
    dockerConfigDir = mkdtempSync(join(tmpdir(), 'slipway-image-cosign-'));
    const auth = Buffer.from(`${input.credentials.username}:${input.credentials.password}`).toString('base64');
    writeFileSync(join(dockerConfigDir, 'config.json'), JSON.stringify({ auths: { [input.registry]: { auth } } }), {
      mode: 0o600,
    });
  }
  try {
    const tools = input.tools({
      workspaceRoot: input.workspaceRoot,
      env: input.env,
      credentials: input.credentials,
      dockerConfigDir,
    });
    await tools.signer.preflight(identity);
    return { identity, tools, dockerConfigDir };
  } catch (error) {
    if (dockerConfigDir) rmSync(dockerConfigDir, { recursive: true, force: true });
    throw error;
  }
}

export function cleanupSigning(prepared: PreparedSigning | undefined): void {
  if (prepared?.dockerConfigDir) rmSync(prepared.dockerConfigDir, { recursive: true, force: true });
}

/** Sign, attest (SBOM + provenance) or verify the pushed digest; returns the record's signing fields. */
export async function signPushedImage(
  record: Pick<ImageRecord, 'project' | 'image' | 'digest' | 'contentTag' | 'revision' | 'engine' | 'reused'>,
  prepared: PreparedSigning | undefined,
  facts: { repository: string; startedOn: string; targetName?: string; env: NodeJS.ProcessEnv; now: () => Date },
  log: (line: string) => void,
): Promise<Pick<ImageRecord, 'signature' | 'attestations'>> {
  if (!prepared) return {};
  const { workflow, builder } = buildContext(facts.env, {
    hostname: hostname(),
    command: `nx run ${record.project}:${facts.targetName ?? 'image'}`,
  });
  return signImage(
    {
      image: record.image,
      digest: record.digest,
      identity: prepared.identity,
      reused: record.reused === true,
      provenance: {
        project: record.project,
        repository: facts.repository,
        revision: record.revision ?? '',
        workflow,
        builder,
        engine: record.engine ?? '',
        contentTag: record.contentTag,
        startedOn: facts.startedOn,
      },
    },
    { ...prepared.tools, log, now: facts.now },
  );
}
