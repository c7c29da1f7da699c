/**
 * The narrow interfaces of the supply-chain step: who signs (a key pair or keyless OIDC), who may
 * have signed (a trust policy), and the two tools behind them (cosign signs/attests/verifies, syft
 * makes the SBOM). The CLI adapters are in cosign.ts and syft.ts; tests swap them for fakes.
 */

/** How the image executor signs. `key`: a cosign key pair (local); `keyless`: Fulcio through the CI's OIDC token. */
export type SigningIdentity =
  | { kind: 'key'; keyFile: string; publicKeyFile: string; password: string }
  | { kind: 'keyless'; identity: string; issuer: string };

/** What a verifier accepts: one public key, or a keyless certificate identity (exact or regexp) and issuer. */
export type TrustPolicy =
  | { kind: 'key'; name: string; publicKeyFile: string }
  | { kind: 'keyless'; name: string; issuer: string; identity?: string; identityRegexp?: string };

/** in-toto predicate types this stage writes and requires. */
export const SBOM_PREDICATE_TYPE = 'https://spdx.dev/Document';
export const PROVENANCE_PREDICATE_TYPE = 'https://slsa.dev/provenance/v1';

/** Why a verification did not pass, in words a refusal can print. */
export type VerificationFailure =
  | 'unsigned'
  | 'signed-by-another-key'
  | 'attestation-missing'
  | 'tag-moved'
  | 'not-found'
  | 'error';

export type VerifyResult = { ok: true } | { ok: false; failure: VerificationFailure; detail: string };

export interface AttestationResult {
  ok: boolean;
  /** in-toto statements of the attestations that verified. */
  statements: InTotoStatement[];
  failure?: VerificationFailure;
  detail?: string;
}

export interface InTotoStatement {
  _type?: string;
  predicateType: string;
  subject?: { name?: string; digest?: Record<string, string> }[];
  predicate: unknown;
}

/** cosign, as the executor and the deploy use it. `reference` is always `repository@sha256:…`. */
export interface ImageSigner {
  /** Fails fast on a missing/unreadable key or a wrong password (before anything is pushed). */
  preflight(signing: SigningIdentity): Promise<void>;
  sign(reference: string, signing: SigningIdentity): Promise<void>;
  attest(reference: string, signing: SigningIdentity, predicateType: string, predicateFile: string): Promise<void>;
}

export interface ImageVerifier {
  verify(reference: string, policy: TrustPolicy): Promise<VerifyResult>;
  /** The attestations of `predicateType` signed under `policy`; `ok` when at least one verified. */
  verifyAttestation(reference: string, policy: TrustPolicy, predicateType: string): Promise<AttestationResult>;
}

/** syft: an SPDX JSON SBOM of the image in the registry. */
export interface SbomGenerator {
  generate(reference: string, outputFile: string): Promise<void>;
}

/** Where cosign keeps a digest's signature and attestations (its `sha256-<hex>.sig/.att` tag scheme). */
export function cosignArtifactReference(repository: string, digest: string, suffix: 'sig' | 'att'): string {
  return `${repository}:${digest.replace(':', '-')}.${suffix}`;
}

export function describeIdentity(signing: SigningIdentity | TrustPolicy): string {
  if (signing.kind === 'key') return `key ${signing.publicKeyFile}`;
  if ('identityRegexp' in signing && signing.identityRegexp)
    return `keyless identity matching ${signing.identityRegexp} (issuer ${signing.issuer})`;
  return `keyless identity ${signing.identity} (issuer ${signing.issuer})`;
}
