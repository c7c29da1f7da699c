import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Type, type Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { DeliveryInputError } from '../shared/errors';
import type { TrustPolicy } from './types';

/**
 * deploy/trust-policies.json: the named trust policies an environment's deploy verifies images
 * against (`trustPolicy` in the deploy target's options, deploy/package.json). A policy trusts one
 * cosign public key, or a keyless certificate identity (exact or regexp) from one OIDC issuer. The
 * in-cluster admission policy (deploy/k8s/components/verify-images) must require the same; the
 * manifest validator checks that it does.
 */
export const TRUST_POLICIES_FILE = 'deploy/trust-policies.json';
const NAME = '^[a-z0-9][a-z0-9-]{0,62}$';

export const TrustPolicyEntrySchema = Type.Union([
  Type.Object(
    {
      description: Type.Optional(Type.String()),
      /** Public key file, relative to the workspace root. */
      publicKey: Type.String({ minLength: 1 }),
    },
    { additionalProperties: false },
  ),
  Type.Object(
    {
      description: Type.Optional(Type.String()),
      keyless: Type.Object(
        {
          issuer: Type.String({ pattern: '^https://' }),
          identity: Type.Optional(Type.String({ minLength: 1 })),
          identityRegexp: Type.Optional(Type.String({ minLength: 1 })),
        },
        { additionalProperties: false },
      ),
    },
    { additionalProperties: false },
  ),
]);

export const TrustPoliciesFileSchema = Type.Object(
  {
    $comment: Type.Optional(Type.String()),
    policies: Type.Record(Type.String({ pattern: NAME }), TrustPolicyEntrySchema),
  },
  { additionalProperties: false },
);
export type TrustPoliciesFile = Static<typeof TrustPoliciesFileSchema>;

export function parseTrustPolicies(text: string, file: string): TrustPoliciesFile {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    throw new DeliveryInputError(`${file} is not valid JSON: ${(error as Error).message}`, `fix the JSON in ${file}`);
  }
  if (!Value.Check(TrustPoliciesFileSchema, data)) {
    const problems = [...Value.Errors(TrustPoliciesFileSchema, data)]
      .slice(0, 5)
      .map((e) => `${e.path || '/'}: ${e.message}`);
    throw new DeliveryInputError(
      `${file} is not a trust policy file: ${problems.join('; ')}`,
      `each entry of "policies" is {"publicKey": "<file.pub>"} or {"keyless": {"issuer": "https://…", "identity" | "identityRegexp": "…"}}`,
    );
  }
  for (const [name, entry] of Object.entries(data.policies)) {
    if ('keyless' in entry && !entry.keyless.identity === !entry.keyless.identityRegexp)
      throw new DeliveryInputError(
        `${file}: policy '${name}' needs exactly one of keyless.identity or keyless.identityRegexp`,
        'name the workflow identity the signatures must carry',
      );
  }
  return data;
}

/** The named policy, its key path made absolute; unknown names list the known ones. */
export function resolveTrustPolicy(name: string, workspaceRoot: string, file = TRUST_POLICIES_FILE): TrustPolicy {
  const path = resolve(workspaceRoot, file);
  if (!existsSync(path))
    throw new DeliveryInputError(
      `trust policy '${name}' can not be looked up: ${file} does not exist`,
      `create ${file} with a "policies" object, or set trustPoliciesFile`,
    );
  const policies = parseTrustPolicies(readFileSync(path, 'utf8'), file).policies;
  const entry = policies[name];
  if (!entry)
    throw new DeliveryInputError(
      `unknown trust policy '${name}'`,
      `use one of ${Object.keys(policies).join(', ') || '(none defined)'} from ${file}, or add '${name}' there`,
    );
  if ('publicKey' in entry) {
    const publicKeyFile = resolve(workspaceRoot, entry.publicKey);
    if (!existsSync(publicKeyFile))
      throw new DeliveryInputError(
        `trust policy '${name}': public key ${entry.publicKey} does not exist`,
        entry.publicKey.startsWith('.local/')
          ? 'run bash tools/scripts/setup.sh (it makes the local key pair), then build the images again so they are signed with it'
          : `put the public key at ${entry.publicKey}`,
      );
    return { kind: 'key', name, publicKeyFile };
  }
  return {
    kind: 'keyless',
    name,
    issuer: entry.keyless.issuer,
    identity: entry.keyless.identity,
    identityRegexp: entry.keyless.identityRegexp,
  };
}
