import { DeliveryInputError } from '../shared/errors';
import { parseImageReference } from '../image/reference';
import {
  PROVENANCE_PREDICATE_TYPE,
  SBOM_PREDICATE_TYPE,
  describeIdentity,
  type ImageVerifier,
  type TrustPolicy,
  type VerificationFailure,
} from './types';

/**
 * The deploy's gate: every image it is about to apply must be pinned by digest, its tag must still
 * point at that digest (a moved tag means someone pushed other content under it since it was
 * signed), and the digest must carry a signature, an SBOM attestation and a provenance attestation
 * under the environment's trust policy. All images are checked, then every refusal is reported at
 * once, before any manifest is written or applied.
 */
export interface ImageVerification {
  project: string;
  reference: string;
  digest?: string;
  ok: boolean;
  /** What is missing or wrong, one entry each (empty when ok). */
  problems: string[];
  ms: number;
}

export interface VerifyImagesDeps {
  verifier: ImageVerifier;
  /** The digest `repository:tag` points at in the registry now (undefined: the tag is gone). */
  tagDigest(repository: string, tag: string): Promise<string | undefined>;
  monotonic?: () => number;
}

const WHAT: Record<VerificationFailure, string> = {
  unsigned: 'no signature',
  'signed-by-another-key': 'no signature from the trusted signer (signed by another key or identity)',
  'attestation-missing': 'missing',
  'tag-moved': 'tag moved',
  'not-found': 'not in the registry',
  error: 'verification error',
};

export async function verifyImage(
  project: string,
  reference: string,
  policy: TrustPolicy,
  deps: VerifyImagesDeps,
): Promise<ImageVerification> {
  const clock = deps.monotonic ?? (() => performance.now());
  const started = clock();
  const ref = parseImageReference(reference);
  const problems: string[] = [];
  const done = (): ImageVerification => ({
    project,
    reference,
    digest: ref.digest,
    ok: problems.length === 0,
    problems,
    ms: Math.round(clock() - started),
  });
  if (!ref.digest) {
    problems.push('not pinned by digest (nothing to verify a signature against)');
    return done();
  }
  const pinned = `${ref.repository}@${ref.digest}`;
  const [tagNow, signature, sbom, provenance] = await Promise.all([
    ref.tag ? deps.tagDigest(ref.repository, ref.tag) : Promise.resolve(ref.digest),
    deps.verifier.verify(pinned, policy),
    deps.verifier.verifyAttestation(pinned, policy, SBOM_PREDICATE_TYPE),
    deps.verifier.verifyAttestation(pinned, policy, PROVENANCE_PREDICATE_TYPE),
  ]);
  if (tagNow !== ref.digest)
    problems.push(
      tagNow
        ? `tag ${ref.tag} now points at ${tagNow}, not at the signed ${ref.digest}: the tag was moved to other content`
        : `tag ${ref.tag} is no longer in the registry`,
    );
  if (!signature.ok) problems.push(`${WHAT[signature.failure]} (${signature.detail})`);
  // Without a valid signature the attestations fail for the same reason: name them only when signed.
  if (signature.ok && !sbom.ok)
    problems.push(`SBOM attestation (${SBOM_PREDICATE_TYPE}) ${WHAT[sbom.failure ?? 'error']}`);
  if (signature.ok && !provenance.ok)
    problems.push(`provenance attestation (${PROVENANCE_PREDICATE_TYPE}) ${WHAT[provenance.failure ?? 'error']}`);
  return done();
}

/** Verify every target (project → reference) in parallel; refuse with one error naming each failure. */
export async function verifyImages(
  targets: Record<string, string>,
  policy: TrustPolicy,
  deps: VerifyImagesDeps,
): Promise<ImageVerification[]> {
  const results = await Promise.all(
    Object.entries(targets).map(([project, reference]) => verifyImage(project, reference, policy, deps)),
  );
  const refused = results.filter((r) => !r.ok);
  if (refused.length > 0) {
    throw new DeliveryInputError(
      `refusing to deploy ${refused.length === 1 ? 'an image' : `${refused.length} images`} that trust policy '${policy.name}' (${describeIdentity(policy)}) does not accept:\n${refused
        .map(
          (r) =>
            `  ${r.project}: ${r.reference.split('@')[0]} digest ${r.digest ?? '(none)'}: ${r.problems.join('; ')}`,
        )
        .join('\n')}`,
      'deploy images built and signed by the image target (nx run <project>:image signs them), or fix the trust policy of this environment',
    );
  }
  return results;
}
