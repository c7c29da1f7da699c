import { readIndexContents, recordFieldsOfIndex } from './index-contents';
import { FetchedManifest, RegistryClient, sha256Digest } from './registry';

const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';

function registryWith(
  manifests: Record<string, { mediaType: string; json: unknown }>,
): RegistryClient & { gets: string[] } {
  const gets: string[] = [];
  const get = async (_path: string, reference: string): Promise<FetchedManifest> => {
    gets.push(reference);
    const entry = manifests[reference];
    if (!entry) throw new Error(`no manifest ${reference}`);
    const body = Buffer.from(JSON.stringify(entry.json));
    return { body, mediaType: entry.mediaType, digest: sha256Digest(body) };
  };
  return {
    gets,
    headManifest: async () => undefined,
    getManifest: get,
    putManifest: async () => '',
    getLabels: async () => ({}),
    listTags: async () => [],
  };
}

const amd = `sha256:${'a'.repeat(64)}`;
const arm = `sha256:${'b'.repeat(64)}`;
const att = `sha256:${'c'.repeat(64)}`;
const index = `sha256:${'d'.repeat(64)}`;

describe('index contents', () => {
  const client = registryWith({
    [index]: {
      mediaType: OCI_INDEX,
      json: {
        manifests: [
          { digest: amd, platform: { os: 'linux', architecture: 'amd64' } },
          { digest: arm, platform: { os: 'linux', architecture: 'arm64', variant: 'v8' } },
          {
            digest: att,
            platform: { os: 'unknown', architecture: 'unknown' },
            annotations: { 'vnd.docker.reference.type': 'attestation-manifest', 'vnd.docker.reference.digest': amd },
          },
        ],
      },
    },
    [att]: {
      mediaType: OCI_MANIFEST,
      json: { layers: [{ annotations: { 'in-toto.io/predicate-type': 'https://slsa.dev/provenance/v0.2' } }] },
    },
  });

  it('lists the platform images and the attestation manifests with their subject and predicate types', async () => {
    expect(await readIndexContents(client, 's/c', index)).toEqual({
      platforms: ['linux/amd64', 'linux/arm64/v8'],
      attestations: [{ subject: amd, digest: att, predicateTypes: ['https://slsa.dev/provenance/v0.2'] }],
    });
  });

  it('gives the record fields of an index, and nothing (without a request) for a single image', async () => {
    expect(await recordFieldsOfIndex(client, 's/c', { digest: index, mediaType: OCI_INDEX })).toEqual({
      platforms: ['linux/amd64', 'linux/arm64/v8'],
      buildkitAttestations: [{ subject: amd, digest: att, predicateTypes: ['https://slsa.dev/provenance/v0.2'] }],
    });
    const before = client.gets.length;
    expect(await recordFieldsOfIndex(client, 's/c', { digest: amd, mediaType: OCI_MANIFEST })).toEqual({});
    expect(client.gets.length).toBe(before);
  });
});
