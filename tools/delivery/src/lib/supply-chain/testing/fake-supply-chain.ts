import { readFileSync, writeFileSync } from 'node:fs';
import { DeliveryInputError } from '../../shared/errors';
import type {
  AttestationResult,
  ImageSigner,
  ImageVerifier,
  SbomGenerator,
  SigningIdentity,
  TrustPolicy,
  VerifyResult,
} from '../types';

/**
 * In-memory cosign + syft for unit tests: signatures and attestations are remembered per
 * `repository@digest` and signer (key file or keyless identity), and a policy accepts only its own.
 */
function signerId(s: SigningIdentity | TrustPolicy): string {
  if (s.kind === 'key') return `key:${s.publicKeyFile}`;
  return `keyless:${s.issuer}:${'identityRegexp' in s && s.identityRegexp ? s.identityRegexp : s.identity}`;
}

function accepts(policy: TrustPolicy, signer: string): boolean {
  if (policy.kind === 'key') return signer === `key:${policy.publicKeyFile}`;
  if (!signer.startsWith(`keyless:${policy.issuer}:`)) return false;
  const identity = signer.slice(`keyless:${policy.issuer}:`.length);
  return policy.identityRegexp ? new RegExp(policy.identityRegexp).test(identity) : identity === policy.identity;
}

function readPredicate(file: string): unknown {
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    return undefined;
  }
}

export class FakeSupplyChain implements ImageSigner, ImageVerifier, SbomGenerator {
  readonly signatures = new Map<string, string[]>();
  readonly attestations = new Map<string, { signer: string; type: string; predicate: unknown }[]>();
  readonly calls: string[] = [];
  /** Password the key decrypts with; preflight fails for any other. */
  password = 'right';

  async preflight(signing: SigningIdentity): Promise<void> {
    this.calls.push('preflight');
    if (signing.kind === 'key' && signing.password !== this.password)
      throw new DeliveryInputError(`the password for signing key ${signing.keyFile} is wrong`, 'export the right one');
  }

  async sign(reference: string, signing: SigningIdentity): Promise<void> {
    this.calls.push(`sign ${reference}`);
    this.signatures.set(reference, [...(this.signatures.get(reference) ?? []), signerId(signing)]);
  }

  async attest(
    reference: string,
    signing: SigningIdentity,
    predicateType: string,
    predicateFile: string,
  ): Promise<void> {
    this.calls.push(`attest ${predicateType} ${reference}`);
    this.attestations.set(reference, [
      ...(this.attestations.get(reference) ?? []),
      { signer: signerId(signing), type: predicateType, predicate: readPredicate(predicateFile) },
    ]);
  }

  async generate(reference: string, outputFile: string): Promise<void> {
    this.calls.push(`sbom ${reference}`);
    writeFileSync(outputFile, JSON.stringify({ spdxVersion: 'SPDX-2.3', packages: [] }));
  }

  async verify(reference: string, policy: TrustPolicy): Promise<VerifyResult> {
    this.calls.push(`verify ${reference}`);
    const signers = this.signatures.get(reference) ?? [];
    if (signers.length === 0) return { ok: false, failure: 'unsigned', detail: 'no signatures found' };
    return signers.some((s) => accepts(policy, s))
      ? { ok: true }
      : { ok: false, failure: 'signed-by-another-key', detail: 'no matching signatures' };
  }

  async verifyAttestation(reference: string, policy: TrustPolicy, predicateType: string): Promise<AttestationResult> {
    this.calls.push(`verify-attestation ${predicateType} ${reference}`);
    const found = (this.attestations.get(reference) ?? []).filter(
      (a) => a.type === predicateType && accepts(policy, a.signer),
    );
    return found.length > 0
      ? { ok: true, statements: found.map((a) => ({ predicateType, predicate: a.predicate })) }
      : { ok: false, statements: [], failure: 'attestation-missing', detail: 'none of the attestations matched' };
  }
}
