import { DeliveryInputError } from '../shared/errors';
import { FakeSupplyChain } from './testing/fake-supply-chain';
import { PROVENANCE_PREDICATE_TYPE, SBOM_PREDICATE_TYPE, type SigningIdentity, type TrustPolicy } from './types';
import { verifyImages } from './verify-images';

const REPO = '127.0.0.1:5000/slipway/catalog';
const A = `sha256:${'a'.repeat(64)}`;
const B = `sha256:${'b'.repeat(64)}`;
const ours: SigningIdentity = { kind: 'key', keyFile: '/k/cosign.key', publicKeyFile: '/k/cosign.pub', password: 'x' };
const theirs: SigningIdentity = {
  kind: 'key',
  keyFile: '/o/cosign.key',
  publicKeyFile: '/o/cosign.pub',
  password: 'x',
};
const policy: TrustPolicy = { kind: 'key', name: 'local-key', publicKeyFile: '/k/cosign.pub' };

async function signFully(fake: FakeSupplyChain, reference: string, who: SigningIdentity) {
  await fake.sign(reference, who);
  await fake.attest(reference, who, SBOM_PREDICATE_TYPE, '/dev/null');
  await fake.attest(reference, who, PROVENANCE_PREDICATE_TYPE, '/dev/null');
}

function deps(fake: FakeSupplyChain, tags: Record<string, string | undefined> = { 'h-1': A }) {
  return { verifier: fake, tagDigest: async (_repo: string, tag: string) => tags[tag] };
}

async function refusal(promise: Promise<unknown>): Promise<string> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(DeliveryInputError);
  return (error as Error).message;
}

describe('verifyImages', () => {
  it('accepts an image signed with its SBOM and provenance by the trusted key, tag still on the digest', async () => {
    const fake = new FakeSupplyChain();
    await signFully(fake, `${REPO}@${A}`, ours);
    const [result] = await verifyImages({ catalog: `${REPO}:h-1@${A}` }, policy, deps(fake));
    expect(result).toMatchObject({ project: 'catalog', digest: A, ok: true, problems: [] });
    expect(fake.calls).toContain(`verify ${REPO}@${A}`);
  });

  it('refuses an unsigned image, naming the image, the digest and what is missing', async () => {
    const message = await refusal(verifyImages({ catalog: `${REPO}:h-1@${A}` }, policy, deps(new FakeSupplyChain())));
    expect(message).toContain(`catalog: ${REPO}:h-1 digest ${A}: no signature`);
    expect(message).toContain("trust policy 'local-key' (key /k/cosign.pub)");
  });

  it('refuses an image signed by another key', async () => {
    const fake = new FakeSupplyChain();
    await signFully(fake, `${REPO}@${A}`, theirs);
    const message = await refusal(verifyImages({ catalog: `${REPO}:h-1@${A}` }, policy, deps(fake)));
    expect(message).toMatch(/no signature from the trusted signer \(signed by another key/);
  });

  it('refuses when the tag was moved to other content since signing', async () => {
    const fake = new FakeSupplyChain();
    await signFully(fake, `${REPO}@${A}`, ours);
    const message = await refusal(verifyImages({ catalog: `${REPO}:h-1@${A}` }, policy, deps(fake, { 'h-1': B })));
    expect(message).toContain(`tag h-1 now points at ${B}, not at the signed ${A}`);
  });

  it('refuses a signed image without its SBOM attestation, and one not pinned by digest', async () => {
    const fake = new FakeSupplyChain();
    await fake.sign(`${REPO}@${A}`, ours);
    await fake.attest(`${REPO}@${A}`, ours, PROVENANCE_PREDICATE_TYPE, '/dev/null');
    const message = await refusal(
      verifyImages({ catalog: `${REPO}:h-1@${A}`, orders: '127.0.0.1:5000/slipway/orders:h-2' }, policy, deps(fake)),
    );
    expect(message).toContain(`SBOM attestation (${SBOM_PREDICATE_TYPE}) missing`);
    expect(message).toContain('orders: 127.0.0.1:5000/slipway/orders:h-2 digest (none): not pinned by digest');
    expect(message).toMatch(/refusing to deploy 2 images/);
  });

  it('keyless: accepts only the identity the regexp names from the right issuer', async () => {
    const keyless: TrustPolicy = {
      kind: 'keyless',
      name: 'github-release',
      issuer: 'https://token.actions.githubusercontent.com',
      identityRegexp: '^https://github\\.com/acme/app/\\.github/workflows/release\\.yml@refs/heads/main$',
    };
    const good: SigningIdentity = {
      kind: 'keyless',
      issuer: keyless.issuer,
      identity: 'https://github.com/acme/app/.github/workflows/release.yml@refs/heads/main',
    };
    const fork: SigningIdentity = {
      ...good,
      identity: 'https://github.com/evil/app/.github/workflows/release.yml@refs/heads/main',
    };
    const fake = new FakeSupplyChain();
    await signFully(fake, `${REPO}@${A}`, good);
    await signFully(fake, `${REPO}@${B}`, fork);
    await expect(verifyImages({ catalog: `${REPO}:h-1@${A}` }, keyless, deps(fake))).resolves.toHaveLength(1);
    await expect(verifyImages({ catalog: `${REPO}:h-2@${B}` }, keyless, deps(fake, { 'h-2': B }))).rejects.toThrow(
      /catalog: .*digest sha256:b+: no signature from the trusted signer/,
    );
  });
});
