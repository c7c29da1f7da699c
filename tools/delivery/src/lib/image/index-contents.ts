import type { BuildkitAttestation, ImageRecord } from './record';
import type { ManifestInfo, RegistryClient } from './registry';

/** What an image index holds, for the record: its platforms and BuildKit's attestation manifests. */
export interface IndexContents {
  /** os/arch[/variant] of each platform image (BuildKit's attestation entries, unknown/unknown, excluded). */
  platforms: string[];
  /** One attestation manifest per attested platform image (buildx --provenance / --sbom). */
  attestations: BuildkitAttestation[];
}

interface IndexJson {
  manifests?: {
    digest: string;
    platform?: { os?: string; architecture?: string; variant?: string };
    annotations?: Record<string, string>;
  }[];
}

interface ManifestJson {
  layers?: { annotations?: Record<string, string> }[];
}

export const INDEX_MEDIA_TYPES = [
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
];

const isIndex = (mediaType: string): boolean => INDEX_MEDIA_TYPES.includes(mediaType.split(';')[0]?.trim() ?? '');

/**
 * Read an index back from the registry: undefined for a single image manifest. BuildKit marks each
 * attestation manifest with `vnd.docker.reference.type: attestation-manifest` and the digest of the image it
 * describes in `vnd.docker.reference.digest`; each of its layers names an in-toto predicate type.
 */
export async function readIndexContents(
  client: RegistryClient,
  path: string,
  digest: string,
): Promise<IndexContents | undefined> {
  const index = await client.getManifest(path, digest);
  if (!isIndex(index.mediaType)) return undefined;
  const json = JSON.parse(index.body.toString('utf8')) as IndexJson;
  const platforms: string[] = [];
  const attestations: IndexContents['attestations'] = [];
  for (const entry of json.manifests ?? []) {
    const annotations = entry.annotations ?? {};
    if (annotations['vnd.docker.reference.type'] === 'attestation-manifest') {
      const manifest = JSON.parse((await client.getManifest(path, entry.digest)).body.toString('utf8')) as ManifestJson;
      attestations.push({
        subject: annotations['vnd.docker.reference.digest'] ?? '',
        digest: entry.digest,
        predicateTypes: (manifest.layers ?? [])
          .map((layer) => layer.annotations?.['in-toto.io/predicate-type'])
          .filter((type): type is string => !!type),
      });
    } else if (entry.platform?.os && entry.platform.architecture) {
      const { os, architecture, variant } = entry.platform;
      platforms.push([os, architecture, variant].filter(Boolean).join('/'));
    }
  }
  return { platforms, attestations };
}

/** The optional record fields of an index; none (and no request) for a single image manifest. */
export async function recordFieldsOfIndex(
  client: RegistryClient,
  path: string,
  served: ManifestInfo,
): Promise<Pick<ImageRecord, 'platforms' | 'buildkitAttestations'>> {
  if (!isIndex(served.mediaType)) return {};
  const contents = await readIndexContents(client, path, served.digest);
  if (!contents) return {};
  return {
    platforms: contents.platforms,
    ...(contents.attestations.length > 0 ? { buildkitAttestations: contents.attestations } : {}),
  };
}
