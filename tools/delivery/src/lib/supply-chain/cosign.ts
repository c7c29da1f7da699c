import { isLoopbackRegistry } from '../image/reference';
import { DeliveryInputError } from '../shared/errors';
import { parseImageReference } from '../image/reference';
import { splitRepository } from '../release/registry-access';
import { runProcess, type RunOptions, type RunResult } from '../shared/process';
import { redact } from '../shared/redact';
import type {
  AttestationResult,
  ImageSigner,
  ImageVerifier,
  InTotoStatement,
  SigningIdentity,
  TrustPolicy,
  VerifyResult,
} from './types';

export type Runner = (program: string, args: readonly string[], options: RunOptions) => Promise<RunResult>;

export interface CosignCliOptions {
  binary: string;
  /** Extra environment (DOCKER_CONFIG with registry credentials). */
  env?: NodeJS.ProcessEnv;
  /** Values never to print (the key password, registry credentials). */
  secrets?: readonly string[];
  run?: Runner;
  timeoutMs?: number;
}

export class SigningError extends Error {}

/**
 * cosign v2 behind ImageSigner/ImageVerifier. Key signing never uploads to a transparency log
 * (--tlog-upload=false; this machine has no internet) and key verification skips it
 * (--insecure-ignore-tlog); keyless signing and verification use the public Sigstore instance as
 * cosign defaults. The key password reaches cosign only through COSIGN_PASSWORD.
 */
export class CosignCli implements ImageSigner, ImageVerifier {
  private readonly run: Runner;

  constructor(private readonly options: CosignCliOptions) {
    this.run = options.run ?? runProcess;
  }

  private registryFlags(reference: string): string[] {
    const { registry } = splitRepository(parseImageReference(reference).repository);
    return isLoopbackRegistry(registry) ? ['--allow-insecure-registry', '--allow-http-registry'] : [];
  }

  private async cosign(args: string[], password?: string): Promise<RunResult> {
    const secrets = [...(this.options.secrets ?? []), ...(password ? [password] : [])];
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      ...this.options.env,
      // Never ask on a terminal; an empty password is passed as such.
      COSIGN_PASSWORD: password ?? '',
      COSIGN_YES: 'true',
    };
    const result = await this.run(this.options.binary, args, {
      env,
      secrets,
      timeoutMs: this.options.timeoutMs ?? 5 * 60_000,
    });
    return { ...result, stdout: redact(result.stdout, secrets), stderr: redact(result.stderr, secrets) };
  }

  async preflight(signing: SigningIdentity): Promise<void> {
    if (signing.kind === 'keyless') return;
    // Decrypting the key is the only way to know the password is right: do it before any push.
    const result = await this.cosign(['public-key', '--key', signing.keyFile], signing.password);
    if (result.code !== 0) {
      const text = `${result.stderr}\n${result.stdout}`;
      if (/decrypt|password|encrypted/i.test(cosignError(text)))
        throw new DeliveryInputError(
          `the password for signing key ${signing.keyFile} is wrong`,
          'export the key password in the variable named by signingPasswordEnv (default SLIPWAY_COSIGN_PASSWORD)',
        );
      throw new DeliveryInputError(
        `cosign can not read signing key ${signing.keyFile}: ${cosignError(text)}`,
        'make a new pair with bash tools/scripts/local-signing-key.sh, or point signingKey at a cosign key',
      );
    }
  }

  async sign(reference: string, signing: SigningIdentity): Promise<void> {
    const args = ['sign', '--yes', ...this.registryFlags(reference)];
    if (signing.kind === 'key') args.push('--key', signing.keyFile, '--tlog-upload=false');
    args.push(reference);
    const result = await this.cosign(args, signing.kind === 'key' ? signing.password : undefined);
    if (result.code !== 0)
      throw new SigningError(`cosign sign ${reference} failed (exit ${result.code}): ${cosignError(result.stderr)}`);
  }

  async attest(
    reference: string,
    signing: SigningIdentity,
    predicateType: string,
    predicateFile: string,
  ): Promise<void> {
    const args = [
      'attest',
      '--yes',
      ...this.registryFlags(reference),
      '--type',
      predicateType,
      '--predicate',
      predicateFile,
    ];
    if (signing.kind === 'key') args.push('--key', signing.keyFile, '--tlog-upload=false');
    args.push(reference);
    const result = await this.cosign(args, signing.kind === 'key' ? signing.password : undefined);
    if (result.code !== 0)
      throw new SigningError(
        `cosign attest (${predicateType}) ${reference} failed (exit ${result.code}): ${cosignError(result.stderr)}`,
      );
  }

  private policyFlags(policy: TrustPolicy): string[] {
    if (policy.kind === 'key') return ['--key', policy.publicKeyFile, '--insecure-ignore-tlog=true'];
    return [
      '--certificate-oidc-issuer',
      policy.issuer,
      ...(policy.identityRegexp
        ? ['--certificate-identity-regexp', policy.identityRegexp]
        : ['--certificate-identity', policy.identity ?? '']),
    ];
  }

  async verify(reference: string, policy: TrustPolicy): Promise<VerifyResult> {
    const result = await this.cosign([
      'verify',
      ...this.registryFlags(reference),
      ...this.policyFlags(policy),
      '--output',
      'json',
      reference,
    ]);
    if (result.code === 0) return { ok: true };
    return classifyFailure(result.stderr, 'signature');
  }

  async verifyAttestation(reference: string, policy: TrustPolicy, predicateType: string): Promise<AttestationResult> {
    // cosign checks every attestation's signature but returns only those of `--type`.
    const result = await this.cosign([
      'verify-attestation',
      ...this.registryFlags(reference),
      ...this.policyFlags(policy),
      '--type',
      predicateType,
      reference,
    ]);
    return result.code === 0
      ? { ok: true, statements: parseEnvelopes(result.stdout) }
      : { ok: false, statements: [], ...failureFields(classifyFailure(result.stderr, 'attestation')) };
  }
}

function failureFields(result: VerifyResult): Pick<AttestationResult, 'failure' | 'detail'> {
  return result.ok ? {} : { failure: result.failure, detail: result.detail };
}

export function lastLines(text: string, count = 3): string {
  return (
    text
      .trim()
      .split('\n')
      .filter((l) => l.trim())
      .slice(-count)
      .join(' / ') || '(no output)'
  );
}

/** cosign's own error line (`Error: …`), else the last lines of its output. */
export function cosignError(stderr: string): string {
  const line = stderr
    .split('\n')
    .reverse()
    .find((l) => l.startsWith('Error: '));
  return line ? line.slice('Error: '.length).trim() || '(no detail)' : lastLines(stderr);
}

/** cosign's verification errors → the reason a refusal names. */
export function classifyFailure(stderr: string, what: 'signature' | 'attestation'): VerifyResult {
  const detail = cosignError(stderr);
  if (/no signatures found|none of the attestations matched|no matching attestations:\s*$/m.test(detail))
    return { ok: false, failure: what === 'signature' ? 'unsigned' : 'attestation-missing', detail };
  if (/no matching (signatures|attestations)|invalid signature|verification failed/i.test(detail))
    return { ok: false, failure: 'signed-by-another-key', detail };
  if (/MANIFEST_UNKNOWN|NAME_UNKNOWN|404/i.test(detail)) return { ok: false, failure: 'not-found', detail };
  return { ok: false, failure: 'error', detail };
}

/** `cosign verify-attestation --output json` prints one DSSE envelope per line; their payloads are in-toto statements. */
export function parseEnvelopes(stdout: string): InTotoStatement[] {
  const statements: InTotoStatement[] = [];
  for (const line of stdout.split('\n')) {
    if (!line.trim().startsWith('{')) continue;
    try {
      const envelope = JSON.parse(line) as { payload?: string };
      if (!envelope.payload) continue;
      statements.push(JSON.parse(Buffer.from(envelope.payload, 'base64').toString('utf8')) as InTotoStatement);
    } catch {
      // Not an envelope (cosign prints nothing else on stdout, but never trust the shape blindly).
    }
  }
  return statements;
}
