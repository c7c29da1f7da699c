import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parse } from 'yaml';
import { clusterPolicyProblems, trustPolicyMismatches, type ClusterPolicy } from './kyverno';
import { schemaProblems } from './schema';

const WORKSPACE = resolve(__dirname, '../../../../..');
const component = (): ClusterPolicy =>
  parse(readFileSync(join(WORKSPACE, 'deploy/k8s/components/verify-images/cluster-policy.yaml'), 'utf8'));

describe('Kyverno ClusterPolicy (verify-images component)', () => {
  it('the component passes its schema and requires the github-release trust policy exactly', () => {
    expect(schemaProblems(component() as never)).toEqual([]);
    expect(trustPolicyMismatches(component(), WORKSPACE)).toEqual([]);
  });

  it('a misspelled or unknown field fails the schema, naming the field', () => {
    const policy = component() as unknown as { spec: { rules: { verifyImages: Record<string, unknown>[] }[] } };
    (policy.spec.rules[0] as { verifyImages: Record<string, unknown>[] }).verifyImages[0] = {
      ...policy.spec.rules[0]?.verifyImages[0],
      imageReference: ['x'],
    };
    const problems = clusterPolicyProblems(policy);
    expect(problems.map((p) => p.field)).toContain('spec.rules[0].verifyImages[0].imageReference');
  });

  it('another identity, or a missing SBOM attestation, does not match the trust policy', () => {
    const other = component();
    const entry = other.spec.rules[0]?.verifyImages[0]?.attestors[0]?.entries[0] as {
      keyless: { subjectRegExp?: string };
    };
    entry.keyless.subjectRegExp = '^https://github\\.com/.+$';
    expect(trustPolicyMismatches(other, WORKSPACE)).toEqual([
      expect.objectContaining({
        field: 'spec.rules[0].verifyImages[0].attestors',
        message: "does not require the signer of trust policy 'github-release'",
      }),
    ]);
    const noSbom = component();
    const verify = noSbom.spec.rules[0]?.verifyImages[0] as { attestations?: { type: string }[] };
    verify.attestations = verify.attestations?.filter((a) => a.type !== 'https://spdx.dev/Document');
    expect(trustPolicyMismatches(noSbom, WORKSPACE).map((m) => m.message)).toEqual([
      "does not require the https://spdx.dev/Document attestation from the signer of trust policy 'github-release'",
    ]);
  });

  describe('key trust policies', () => {
    let root: string;
    beforeEach(() => {
      root = mkdtempSync(join(tmpdir(), 'slipway-kyverno-'));
      mkdirSync(join(root, 'deploy'));
      writeFileSync(join(root, 'release.pub'), '-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n');
      writeFileSync(
        join(root, 'deploy/trust-policies.json'),
        JSON.stringify({ policies: { release: { publicKey: 'release.pub' } } }),
      );
    });
    afterEach(() => rmSync(root, { recursive: true, force: true }));

    const keyed = (pem: string): ClusterPolicy => {
      const policy = component();
      const keys = { count: 1, entries: [{ keys: { publicKeys: pem } }] };
      policy.metadata.annotations = { 'slipway.dev/trust-policy': 'release' };
      const verify = policy.spec.rules[0]
        ?.verifyImages[0] as ClusterPolicy['spec']['rules'][number]['verifyImages'][number];
      verify.attestors = [keys];
      verify.attestations = verify.attestations?.map((a) => ({ ...a, attestors: [keys] }));
      return policy;
    };

    it('accepts the PEM of the trust policy key file and refuses another key', () => {
      expect(trustPolicyMismatches(keyed(readFileSync(join(root, 'release.pub'), 'utf8')), root)).toEqual([]);
      expect(
        trustPolicyMismatches(keyed('-----BEGIN PUBLIC KEY-----\nBBBB\n-----END PUBLIC KEY-----\n'), root),
      ).toHaveLength(3);
    });

    it('an unknown trust policy name is reported', () => {
      const policy = keyed('x');
      policy.metadata.annotations = { 'slipway.dev/trust-policy': 'nope' };
      expect(trustPolicyMismatches(policy, root)[0]?.message).toBe(
        "names 'nope', which is not in deploy/trust-policies.json",
      );
    });
  });
});
