import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { Type, type Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { TRUST_POLICIES_FILE, parseTrustPolicies } from '../supply-chain/trust-policy';
import { PROVENANCE_PREDICATE_TYPE, SBOM_PREDICATE_TYPE } from '../supply-chain/types';
import type { SchemaProblem } from './schema';

/**
 * Kyverno's ClusterPolicy (kyverno.io/v1) has no kubernetes-models package: this is the offline
 * schema of the part Slipway uses (verifyImages with cosign keys or keyless attestors and
 * attestations), strict about unknown fields so a typo fails `deploy:validate` instead of being
 * ignored by the admission controller. And the check that such a policy requires what the deploy's
 * trust policy requires: the same key or keyless identity, and the SBOM and provenance attestations.
 */
const Strict = { additionalProperties: false } as const;

const KeylessAttestor = Type.Object(
  {
    issuer: Type.Optional(Type.String({ minLength: 1 })),
    issuerRegExp: Type.Optional(Type.String({ minLength: 1 })),
    subject: Type.Optional(Type.String({ minLength: 1 })),
    subjectRegExp: Type.Optional(Type.String({ minLength: 1 })),
    rekor: Type.Optional(
      Type.Object({ url: Type.String({ pattern: '^https?://' }), ignoreTlog: Type.Optional(Type.Boolean()) }, Strict),
    ),
  },
  Strict,
);
const KeyAttestor = Type.Object(
  {
    publicKeys: Type.String({ minLength: 1 }),
    signatureAlgorithm: Type.Optional(Type.String()),
    rekor: Type.Optional(Type.Object({ url: Type.String(), ignoreTlog: Type.Optional(Type.Boolean()) }, Strict)),
    ctlog: Type.Optional(Type.Object({ ignoreSCT: Type.Optional(Type.Boolean()) }, Strict)),
  },
  Strict,
);
const AttestorSet = Type.Object(
  {
    count: Type.Optional(Type.Integer({ minimum: 1 })),
    entries: Type.Array(
      Type.Union([Type.Object({ keyless: KeylessAttestor }, Strict), Type.Object({ keys: KeyAttestor }, Strict)]),
      { minItems: 1 },
    ),
  },
  Strict,
);
const VerifyImage = Type.Object(
  {
    imageReferences: Type.Array(Type.String({ minLength: 1 }), { minItems: 1 }),
    failureAction: Type.Optional(Type.Union([Type.Literal('Enforce'), Type.Literal('Audit')])),
    type: Type.Optional(Type.Literal('Cosign')),
    mutateDigest: Type.Optional(Type.Boolean()),
    verifyDigest: Type.Optional(Type.Boolean()),
    required: Type.Optional(Type.Boolean()),
    attestors: Type.Array(AttestorSet, { minItems: 1 }),
    attestations: Type.Optional(
      Type.Array(
        Type.Object(
          {
            type: Type.String({ minLength: 1 }),
            attestors: Type.Optional(Type.Array(AttestorSet)),
            conditions: Type.Optional(Type.Array(Type.Unknown())),
          },
          Strict,
        ),
      ),
    ),
  },
  Strict,
);
export const ClusterPolicySchema = Type.Object(
  {
    apiVersion: Type.Literal('kyverno.io/v1'),
    kind: Type.Literal('ClusterPolicy'),
    metadata: Type.Object(
      {
        name: Type.String({ pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$' }),
        annotations: Type.Optional(Type.Record(Type.String(), Type.String())),
        labels: Type.Optional(Type.Record(Type.String(), Type.String())),
      },
      Strict,
    ),
    spec: Type.Object(
      {
        background: Type.Optional(Type.Boolean()),
        webhookTimeoutSeconds: Type.Optional(Type.Integer({ minimum: 1, maximum: 30 })),
        rules: Type.Array(
          Type.Object(
            {
              name: Type.String({ minLength: 1, maxLength: 63 }),
              match: Type.Object(
                {
                  any: Type.Optional(
                    Type.Array(
                      Type.Object(
                        {
                          resources: Type.Object(
                            {
                              kinds: Type.Array(Type.String({ minLength: 1 }), { minItems: 1 }),
                              namespaces: Type.Optional(Type.Array(Type.String())),
                            },
                            Strict,
                          ),
                        },
                        Strict,
                      ),
                    ),
                  ),
                },
                Strict,
              ),
              verifyImages: Type.Array(VerifyImage, { minItems: 1 }),
            },
            Strict,
          ),
          { minItems: 1 },
        ),
      },
      Strict,
    ),
  },
  { additionalProperties: false },
);
export type ClusterPolicy = Static<typeof ClusterPolicySchema>;

export function isKyvernoClusterPolicy(apiVersion: string, kind: string): boolean {
  return apiVersion === 'kyverno.io/v1' && kind === 'ClusterPolicy';
}

export function clusterPolicyProblems(object: unknown): SchemaProblem[] {
  if (Value.Check(ClusterPolicySchema, object)) return [];
  return [...Value.Errors(ClusterPolicySchema, object)].slice(0, 10).map((e) => ({
    field:
      e.path
        .replace(/^\//, '')
        .replace(/\/(\d+)(?=\/|$)/g, '[$1]')
        .replace(/\//g, '.') || '(object)',
    message: e.message,
  }));
}

export interface TrustMismatch {
  field: string;
  message: string;
  fix: string;
}

/**
 * The policy must name its trust policy (annotation slipway.dev/trust-policy) and require exactly
 * that policy's signer: the PEM of its publicKey file, or its keyless issuer and identity; and the
 * SBOM and provenance attestations from the same signer.
 */
export function trustPolicyMismatches(object: ClusterPolicy, workspaceRoot: string): TrustMismatch[] {
  const name = object.metadata.annotations?.['slipway.dev/trust-policy'];
  const file = path.join(workspaceRoot, TRUST_POLICIES_FILE);
  if (!name)
    return [
      {
        field: "metadata.annotations['slipway.dev/trust-policy']",
        message: 'is missing: the policy does not say which trust policy it enforces',
        fix: `name the policy of ${TRUST_POLICIES_FILE} that the environment's deploy uses`,
      },
    ];
  if (!existsSync(file))
    return [
      {
        field: 'metadata.annotations',
        message: `${TRUST_POLICIES_FILE} does not exist`,
        fix: `create ${TRUST_POLICIES_FILE}`,
      },
    ];
  const entry = parseTrustPolicies(readFileSync(file, 'utf8'), TRUST_POLICIES_FILE).policies[name];
  if (!entry)
    return [
      {
        field: "metadata.annotations['slipway.dev/trust-policy']",
        message: `names '${name}', which is not in ${TRUST_POLICIES_FILE}`,
        fix: `use a policy name from ${TRUST_POLICIES_FILE}`,
      },
    ];
  const matches = (entries: ClusterPolicy['spec']['rules'][number]['verifyImages'][number]['attestors']): boolean =>
    entries.some((set) =>
      set.entries.some((e) => {
        if ('publicKey' in entry) {
          if (!('keys' in e)) return false;
          const keyFile = path.join(workspaceRoot, entry.publicKey);
          return existsSync(keyFile) && readFileSync(keyFile, 'utf8').trim() === e.keys.publicKeys.trim();
        }
        if (!('keyless' in e)) return false;
        const k = e.keyless;
        return (
          k.issuer === entry.keyless.issuer &&
          (entry.keyless.identityRegexp
            ? k.subjectRegExp === entry.keyless.identityRegexp
            : k.subject === entry.keyless.identity)
        );
      }),
    );
  const want =
    'publicKey' in entry
      ? `keys.publicKeys with the PEM of ${entry.publicKey}`
      : `keyless issuer ${entry.keyless.issuer} and ${entry.keyless.identityRegexp ? `subjectRegExp ${entry.keyless.identityRegexp}` : `subject ${entry.keyless.identity}`}`;
  const out: TrustMismatch[] = [];
  object.spec.rules.forEach((rule, r) =>
    rule.verifyImages.forEach((verify, v) => {
      const at = `spec.rules[${r}].verifyImages[${v}]`;
      if (!matches(verify.attestors))
        out.push({
          field: `${at}.attestors`,
          message: `does not require the signer of trust policy '${name}'`,
          fix: `use ${want}`,
        });
      for (const type of [SBOM_PREDICATE_TYPE, PROVENANCE_PREDICATE_TYPE]) {
        const attestation = verify.attestations?.find((a) => a.type === type);
        if (!attestation || !matches(attestation.attestors ?? verify.attestors))
          out.push({
            field: `${at}.attestations`,
            message: `does not require the ${type} attestation from the signer of trust policy '${name}'`,
            fix: `add {type: ${type}, attestors: [${want}]}`,
          });
      }
    }),
  );
  return out;
}
