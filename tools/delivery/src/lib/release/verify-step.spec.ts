import { DeliveryInputError } from '../shared/errors';
import { FakeSupplyChain } from '../supply-chain/testing/fake-supply-chain';
import {
  PROVENANCE_PREDICATE_TYPE,
  SBOM_PREDICATE_TYPE,
  type SigningIdentity,
  type TrustPolicy,
} from '../supply-chain/types';
import { verifyImages } from '../supply-chain/verify-images';
import { parseHistory } from './history';
import { runRelease, runRollback } from './release';
import { digest, harness, imageRecord, overlay } from './testing/fakes';

const OVERLAY = 'deploy/k8s/overlays/staging/kustomization.yaml';
const HISTORY = 'deploy/history/staging.jsonl';
const REPO = (p: string) => `127.0.0.1:5000/slipway/${p}`;
const ours: SigningIdentity = { kind: 'key', keyFile: '/k/cosign.key', publicKeyFile: '/k/cosign.pub', password: 'x' };
const policy: TrustPolicy = { kind: 'key', name: 'local-key', publicKeyFile: '/k/cosign.pub' };

async function signed(fake: FakeSupplyChain, project: string, d: string) {
  const pinned = `${REPO(project)}@${d}`;
  await fake.sign(pinned, ours);
  await fake.attest(pinned, ours, SBOM_PREDICATE_TYPE, '/dev/null');
  await fake.attest(pinned, ours, PROVENANCE_PREDICATE_TYPE, '/dev/null');
}

/** A release harness whose deploy verifies against `policy` with the fake cosign; tags never move here. */
function gated() {
  const h = harness({
    files: {
      [OVERLAY]: overlay({
        catalog: { tag: 'h-aaaaaaaaaaaa', digest: digest('a') },
        orders: { tag: 'h-bbbbbbbbbbbb', digest: digest('b') },
      }),
    },
  });
  const fake = new FakeSupplyChain();
  const tags: Record<string, string> = {};
  h.deps.verifyImages = (targets) =>
    verifyImages(targets, policy, { verifier: fake, tagDigest: async (repo, tag) => tags[`${repo}:${tag}`] });
  return { h, fake, tags };
}

describe('the release verify stage', () => {
  it('verifies the images it moves before the bump and marks them verified in the record', async () => {
    const { h, fake, tags } = gated();
    await signed(fake, 'catalog', digest('c'));
    tags[`${REPO('catalog')}:h-cccccccccccc`] = digest('c');
    h.images.next = [
      imageRecord('catalog', 'h-cccccccccccc', digest('c')),
      imageRecord('orders', 'h-bbbbbbbbbbbb', digest('b'), { reused: true }),
    ];
    const outcome = await runRelease(h.deps, { releaseHold: false });
    expect(outcome.exitCode).toBe(0);
    expect(outcome.records[0]?.projects).toEqual([expect.objectContaining({ project: 'catalog', verified: true })]);
    expect(outcome.records[0]?.stages['verify']).toBeGreaterThanOrEqual(0);
  });

  it('refuses an unsigned image before any commit or apply, naming image, digest and what is missing', async () => {
    const { h, tags } = gated();
    tags[`${REPO('catalog')}:h-cccccccccccc`] = digest('c');
    h.images.next = [
      imageRecord('catalog', 'h-cccccccccccc', digest('c')),
      imageRecord('orders', 'h-bbbbbbbbbbbb', digest('b'), { reused: true }),
    ];
    const error = await runRelease(h.deps, { releaseHold: false }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DeliveryInputError);
    expect((error as Error).message).toContain(
      `catalog: ${REPO('catalog')}:h-cccccccccccc digest ${digest('c')}: no signature`,
    );
    expect(h.repo.commits).toEqual([]);
    expect(h.cluster.applied).toEqual([]);
    expect(h.lock.released).toBe(1);
  });

  it('refuses when the tag was moved to other content after signing', async () => {
    const { h, fake, tags } = gated();
    await signed(fake, 'catalog', digest('c'));
    tags[`${REPO('catalog')}:h-cccccccccccc`] = digest('d');
    h.images.next = [
      imageRecord('catalog', 'h-cccccccccccc', digest('c')),
      imageRecord('orders', 'h-bbbbbbbbbbbb', digest('b'), { reused: true }),
    ];
    await expect(runRelease(h.deps, { releaseHold: false })).rejects.toThrow(
      `tag h-cccccccccccc now points at ${digest('d')}, not at the signed ${digest('c')}`,
    );
    expect(h.repo.commits).toEqual([]);
  });

  it('rollback verifies the image it restores: a target without a trusted signature is refused without a bump', async () => {
    const { h, fake, tags } = gated();
    for (const [tag, d] of [
      ['h-cccccccccccc', digest('c')],
      ['h-eeeeeeeeeeee', digest('e')],
    ] as const) {
      await signed(fake, 'catalog', d);
      tags[`${REPO('catalog')}:${tag}`] = d;
      h.images.next = [
        imageRecord('catalog', tag, d),
        imageRecord('orders', 'h-bbbbbbbbbbbb', digest('b'), { reused: true }),
      ];
      expect((await runRelease(h.deps, { releaseHold: false })).exitCode).toBe(0);
    }
    // The previous release's image lost its signature (e.g. re-pushed by someone else): not trusted.
    fake.signatures.delete(`${REPO('catalog')}@${digest('c')}`);
    const commits = h.repo.commits.length;
    const rollback = await runRollback(h.deps, { to: 'previous', projects: ['catalog'] });
    expect(rollback.exitCode).toBe(1);
    expect(rollback.message).toMatch(
      /refusing to deploy an image .*\n\s+catalog: .*h-cccccccccccc digest sha256:c+: no signature/,
    );
    const bumps = h.repo.commits.slice(commits).filter((c) => c.message.startsWith('revert(deploy)'));
    expect(bumps).toEqual([]);
    const last = parseHistory(h.repo.files.get(HISTORY) ?? '', HISTORY).pop();
    expect(last?.projects).toEqual([expect.objectContaining({ project: 'catalog', verified: false })]);
  });
});
