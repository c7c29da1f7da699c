import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ImageSupplyChain } from '../image/record';
import { provenancePredicate, type ProvenanceFacts } from './provenance';
import { policyOfIdentity } from './signing';
import {
  PROVENANCE_PREDICATE_TYPE,
  SBOM_PREDICATE_TYPE,
  cosignArtifactReference,
  describeIdentity,
  type ImageSigner,
  type ImageVerifier,
  type SbomGenerator,
  type SigningIdentity,
} from './types';

export interface SignImageDeps {
  signer: ImageSigner;
  verifier: ImageVerifier;
  sbom: SbomGenerator;
  log: (line: string) => void;
  now: () => Date;
  monotonic?: () => number;
}

export interface SignImageInput {
  /** `registry/path` without tag or digest. */
  image: string;
  digest: string;
  identity: SigningIdentity;
  /** The digest was in the registry before this run (reused content tag): look for our signature first. */
  reused: boolean;
  provenance: Omit<ProvenanceFacts, 'startedOn' | 'finishedOn'> & { startedOn: string };
}

/**
 * After a push: sign the image by digest, attach an SPDX SBOM (syft reads the image from the
 * registry) and SLSA provenance as in-toto attestations. An image that already carries a signature,
 * an SBOM and provenance from this very signer (a reused content tag) is verified instead, not
 * signed again; only what is missing is added.
 */
export async function signImage(input: SignImageInput, deps: SignImageDeps): Promise<ImageSupplyChain> {
  const reference = `${input.image}@${input.digest}`;
  const clock = deps.monotonic ?? (() => performance.now());
  const started = clock();
  const policy = policyOfIdentity(input.identity);
  // A digest this run pushed for the first time can carry no signature yet: no need to ask.
  const missing = { ok: false } as const;
  const [signature, sbom, provenance] = input.reused
    ? await Promise.all([
        deps.verifier.verify(reference, policy),
        deps.verifier.verifyAttestation(reference, policy, SBOM_PREDICATE_TYPE),
        deps.verifier.verifyAttestation(reference, policy, PROVENANCE_PREDICATE_TYPE),
      ])
    : [missing, missing, missing];
  const signedBefore = signature.ok && sbom.ok && provenance.ok;
  const work = mkdtempSync(join(tmpdir(), 'slipway-sign-'));
  try {
    // The signature (.sig) and the attestations (.att) are separate artifacts: signing runs beside
    // syft. The two attestations share the .att artifact, so they are written one after the other.
    const sbomFile = join(work, 'sbom.spdx.json');
    await Promise.all([
      signature.ok ? undefined : deps.signer.sign(reference, input.identity),
      sbom.ok ? undefined : deps.sbom.generate(reference, sbomFile),
      (async () => {
        if (provenance.ok) return;
        const file = join(work, 'provenance.json');
        const predicate = provenancePredicate({ ...input.provenance, finishedOn: deps.now().toISOString() });
        writeFileSync(file, JSON.stringify(predicate));
        await deps.signer.attest(reference, input.identity, PROVENANCE_PREDICATE_TYPE, file);
      })(),
    ]);
    if (!sbom.ok) await deps.signer.attest(reference, input.identity, SBOM_PREDICATE_TYPE, sbomFile);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  const ms = Math.round(clock() - started);
  deps.log(
    signedBefore
      ? `verified ${reference}: already signed with its SBOM and provenance by ${describeIdentity(input.identity)} (${ms} ms; not signed again)`
      : `signed ${reference} by ${describeIdentity(input.identity)}; attested ${[!sbom.ok && 'SBOM (SPDX, syft)', !provenance.ok && 'provenance (SLSA v1)'].filter(Boolean).join(' and ') || 'nothing new'} (${ms} ms)`,
  );
  return {
    signature: {
      reference: cosignArtifactReference(input.image, input.digest, 'sig'),
      signer: describeIdentity(input.identity),
      signedThisRun: !signature.ok,
    },
    attestations: {
      reference: cosignArtifactReference(input.image, input.digest, 'att'),
      predicateTypes: [SBOM_PREDICATE_TYPE, PROVENANCE_PREDICATE_TYPE],
      sbomFormat: 'spdx-json',
    },
  };
}
