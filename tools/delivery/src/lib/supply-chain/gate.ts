import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HttpRegistryClient } from '../image/registry';
import { isLoopbackRegistry } from '../image/reference';
import { splitRepository } from '../release/registry-access';
import { hostImageVerifier } from './adapters';
import { resolveTrustPolicy } from './trust-policy';
import type { ImageVerifier, TrustPolicy } from './types';
import { verifyImages, type ImageVerification } from './verify-images';

export interface ImageGateOptions {
  workspaceRoot: string;
  /** Name in the trust policy file. */
  trustPolicy: string;
  trustPoliciesFile?: string;
  env?: NodeJS.ProcessEnv;
  log: (line: string) => void;
  /** Tests swap cosign. */
  verifier?: (dockerConfigDir: string | undefined) => ImageVerifier;
}

/**
 * The deploy's verify gate for one environment. The policy and cosign are resolved now (an unknown
 * policy name, a missing key or a missing cosign fail before anything runs); each call verifies.
 */
export function createImageGate(options: ImageGateOptions): {
  policy: TrustPolicy;
  gate: (targets: Record<string, string>) => Promise<ImageVerification[]>;
} {
  const env = options.env ?? process.env;
  const policy = resolveTrustPolicy(options.trustPolicy, options.workspaceRoot, options.trustPoliciesFile);
  const username = env['REGISTRY_USERNAME'];
  const password = env['REGISTRY_PASSWORD'];
  const credentials = username && password ? { username, password } : undefined;
  const makeVerifier =
    options.verifier ??
    ((dockerConfigDir: string | undefined) =>
      hostImageVerifier({ workspaceRoot: options.workspaceRoot, env, credentials, dockerConfigDir }));
  makeVerifier(undefined); // cosign missing → the install command, now.
  const clients = new Map<string, HttpRegistryClient>();
  const client = (registry: string) => {
    const made =
      clients.get(registry) ??
      new HttpRegistryClient({ registry, insecure: isLoopbackRegistry(registry), credentials });
    clients.set(registry, made);
    return made;
  };
  return {
    policy,
    gate: async (targets) => {
      // cosign reads registry credentials from a docker config, never from its command line.
      const dir = credentials ? mkdtempSync(join(tmpdir(), 'slipway-verify-')) : undefined;
      try {
        if (dir) {
          const auths = Object.fromEntries(
            [
              ...new Set(Object.values(targets).map((ref) => splitRepository(ref.split('@')[0] as string).registry)),
            ].map((registry) => [registry, { auth: Buffer.from(`${username}:${password}`).toString('base64') }]),
          );
          writeFileSync(join(dir, 'config.json'), JSON.stringify({ auths }), { mode: 0o600 });
        }
        const results = await verifyImages(targets, policy, {
          verifier: makeVerifier(dir),
          tagDigest: async (repository, tag) => {
            const { registry, path } = splitRepository(repository);
            return (await client(registry).headManifest(path, tag))?.digest;
          },
        });
        for (const r of results)
          options.log(
            `verified ${r.project} ${r.reference.split('@')[0]} ${r.digest} (${r.ms} ms): signature, SBOM and provenance accepted by trust policy '${policy.name}'`,
          );
        return results;
      } finally {
        if (dir) rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}
