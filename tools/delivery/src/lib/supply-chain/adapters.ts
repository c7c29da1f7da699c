import { CosignCli } from './cosign';
import { SyftCli } from './syft';
import { resolveTool } from './tools';
import type { ImageSigner, ImageVerifier, SbomGenerator } from './types';

export interface SupplyChainTools {
  signer: ImageSigner;
  verifier: ImageVerifier;
  sbom: SbomGenerator;
}

export interface SupplyChainToolOptions {
  workspaceRoot: string;
  env?: NodeJS.ProcessEnv;
  credentials?: { username: string; password: string };
  /** A docker config directory holding the registry credentials for cosign (DOCKER_CONFIG). */
  dockerConfigDir?: string;
}

/** The real cosign and syft; throws (naming the install command) when one is missing. */
export function hostSupplyChainTools(options: SupplyChainToolOptions): SupplyChainTools {
  const lookup = { workspaceRoot: options.workspaceRoot, env: options.env };
  const cosign = new CosignCli({
    binary: resolveTool('cosign', lookup),
    env: options.dockerConfigDir ? { DOCKER_CONFIG: options.dockerConfigDir } : {},
    secrets: options.credentials ? [options.credentials.password] : [],
  });
  const syft = new SyftCli({ binary: resolveTool('syft', lookup), credentials: options.credentials });
  return { signer: cosign, verifier: cosign, sbom: syft };
}

/** Only what verifying needs (the deploy): cosign. */
export function hostImageVerifier(options: SupplyChainToolOptions): ImageVerifier {
  return new CosignCli({
    binary: resolveTool('cosign', { workspaceRoot: options.workspaceRoot, env: options.env }),
    env: options.dockerConfigDir ? { DOCKER_CONFIG: options.dockerConfigDir } : {},
    secrets: options.credentials ? [options.credentials.password] : [],
  });
}
