import { checkObject, checkObjectSet, POLICY_IDS } from './policies';
import type { KubeObject } from '../manifests/kubernetes';
import { schemaProblems } from './schema';

const digest = `sha256:${'a'.repeat(64)}`;

/** A Deployment that satisfies every policy; each test breaks exactly one thing. */
function compliant(): KubeObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'catalog' },
    spec: {
      replicas: 2,
      selector: { matchLabels: { app: 'catalog' } },
      template: {
        metadata: {
          labels: { app: 'catalog' },
          annotations: { 'prometheus.io/scrape': 'true', 'prometheus.io/port': '3101' },
        },
        spec: {
          securityContext: { runAsNonRoot: true, runAsUser: 10001, seccompProfile: { type: 'RuntimeDefault' } },
          topologySpreadConstraints: [
            { maxSkew: 1, topologyKey: 'kubernetes.io/hostname', whenUnsatisfiable: 'ScheduleAnyway' },
          ],
          containers: [
            {
              name: 'catalog',
              image: `127.0.0.1:5000/slipway/catalog:h-0123456789ab@${digest}`,
              livenessProbe: { httpGet: { path: '/health/liveness', port: 3101 } },
              readinessProbe: { httpGet: { path: '/health/readiness', port: 3101 } },
              resources: { requests: { cpu: '50m', memory: '64Mi' }, limits: { cpu: '500m', memory: '256Mi' } },
              securityContext: {
                allowPrivilegeEscalation: false,
                readOnlyRootFilesystem: true,
                capabilities: { drop: ['ALL'] },
              },
              volumeMounts: [{ name: 'tmp', mountPath: '/tmp' }],
            },
          ],
          volumes: [{ name: 'tmp', emptyDir: {} }],
        },
      },
    },
  };
}

type Mutable = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
const pod = (o: KubeObject) => (o.spec as Mutable).template.spec as Mutable;
const container = (o: KubeObject) => pod(o).containers[0] as Mutable;
const C = 'spec.template.spec.containers[catalog]';

describe('manifest policies', () => {
  it('a compliant Deployment passes every policy and the schema', () => {
    expect(checkObject(compliant(), { overlay: 'staging' })).toEqual([]);
    expect(schemaProblems(compliant())).toEqual([]);
  });

  it.each<[string, (o: KubeObject) => void, string, string, RegExp]>([
    [
      'latest tag',
      (o) => (container(o).image = 'r/catalog:latest'),
      'image-pinned',
      `${C}.image`,
      /moving tag 'latest'/,
    ],
    [
      'no tag, no digest',
      (o) => (container(o).image = 'r/catalog'),
      'image-pinned',
      `${C}.image`,
      /neither tag nor digest/,
    ],
    [
      'branch tag without digest',
      (o) => (container(o).image = 'r/catalog:main'),
      'image-pinned',
      `${C}.image`,
      /tag 'main' only, which can move/,
    ],
    [
      'missing readiness probe',
      (o) => delete container(o).readinessProbe,
      'probes',
      `${C}.readinessProbe`,
      /is missing/,
    ],
    ['missing liveness probe', (o) => delete container(o).livenessProbe, 'probes', `${C}.livenessProbe`, /is missing/],
    [
      'wrong probe path',
      (o) => (container(o).readinessProbe.httpGet.path = '/'),
      'probe-paths',
      `${C}.readinessProbe.httpGet.path`,
      /is '\/'/,
    ],
    [
      'missing memory limit',
      (o) => delete container(o).resources.limits.memory,
      'resources',
      `${C}.resources.limits.memory`,
      /is missing/,
    ],
    [
      'missing cpu request',
      (o) => delete container(o).resources.requests.cpu,
      'resources',
      `${C}.resources.requests.cpu`,
      /is missing/,
    ],
    [
      'runAsNonRoot off',
      (o) => (pod(o).securityContext.runAsNonRoot = false),
      'run-as-non-root',
      `${C}.securityContext.runAsNonRoot`,
      /is not true/,
    ],
    [
      'no fixed uid',
      (o) => delete pod(o).securityContext.runAsUser,
      'fixed-uid',
      `${C}.securityContext.runAsUser`,
      /is not set/,
    ],
    [
      'uid 0 in the container',
      (o) => (container(o).securityContext.runAsUser = 0),
      'fixed-uid',
      `${C}.securityContext.runAsUser`,
      /is 0, below 1000/,
    ],
    [
      'writable root filesystem',
      (o) => (container(o).securityContext.readOnlyRootFilesystem = false),
      'read-only-root-filesystem',
      `${C}.securityContext.readOnlyRootFilesystem`,
      /can write/,
    ],
    [
      'no /tmp emptyDir',
      (o) => (pod(o).volumes = [{ name: 'tmp', hostPath: { path: '/tmp' } }]),
      'tmp-emptydir',
      `${C}.volumeMounts`,
      /not an emptyDir/,
    ],
    [
      'privilege escalation allowed',
      (o) => delete container(o).securityContext.allowPrivilegeEscalation,
      'no-privilege-escalation',
      `${C}.securityContext.allowPrivilegeEscalation`,
      /is not false/,
    ],
    [
      'capabilities not dropped',
      (o) => (container(o).securityContext.capabilities.drop = ['NET_RAW']),
      'drop-all-capabilities',
      `${C}.securityContext.capabilities.drop`,
      /does not include ALL/,
    ],
    [
      'capability added',
      (o) => (container(o).securityContext.capabilities.add = ['NET_ADMIN']),
      'drop-all-capabilities',
      `${C}.securityContext.capabilities.add`,
      /adds NET_ADMIN/,
    ],
    [
      'seccomp unconfined',
      (o) => (pod(o).securityContext.seccompProfile.type = 'Unconfined'),
      'seccomp-runtime-default',
      `${C}.securityContext.seccompProfile.type`,
      /is Unconfined/,
    ],
    [
      'privileged',
      (o) => (container(o).securityContext.privileged = true),
      'not-privileged',
      `${C}.securityContext.privileged`,
      /is true/,
    ],
    ['host PID', (o) => (pod(o).hostPID = true), 'no-host-namespaces', 'spec.template.spec.hostPID', /is true/],
    [
      'no scrape annotations',
      (o) => ((o.spec as Mutable).template.metadata.annotations = {}),
      'prometheus-scrape',
      'spec.template.metadata.annotations',
      /prometheus\.io\/scrape/,
    ],
    [
      'no topology spread with 2 replicas',
      (o) => delete pod(o).topologySpreadConstraints,
      'topology-spread',
      'spec.template.spec.topologySpreadConstraints',
      /2 replicas/,
    ],
  ])('%s → exactly one %s violation', (_name, mutate, policy, field, message) => {
    const o = compliant();
    mutate(o);
    const violations = checkObject(o, {
      overlay: 'staging',
      imagesFile: 'deploy/k8s/overlays/staging/kustomization.yaml',
    });
    expect(violations).toHaveLength(1);
    expect(violations[0]).toMatchObject({ policy, object: 'Deployment/catalog', field });
    expect(violations[0].message).toMatch(message);
    expect(violations[0].fix.length).toBeGreaterThan(10);
  });

  it('points image pins at the overlay file', () => {
    const o = compliant();
    container(o).image = 'r/catalog:latest';
    const [v] = checkObject(o, {
      overlay: 'production',
      imagesFile: 'deploy/k8s/overlays/production/kustomization.yaml',
    });
    expect(v.fixFile).toBe('deploy/k8s/overlays/production/kustomization.yaml');
    expect(v.fix).toContain('nx run deploy:bump --environment=production');
  });

  it('accepts an immutable tag without digest (h-, sha-, semver)', () => {
    for (const tag of ['h-0123456789ab', 'sha-1a2b3c4', 'v1.2.3']) {
      const o = compliant();
      container(o).image = `r/catalog:${tag}`;
      expect(checkObject(o, {})).toEqual([]);
    }
  });

  it('skips exempted policies', () => {
    const o = compliant();
    container(o).image = 'r/catalog:latest';
    expect(checkObject(o, {}, new Set(['image-pinned']))).toEqual([]);
  });

  it('requires a default-deny NetworkPolicy beside workloads', () => {
    const deny = {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: { name: 'd' },
      spec: { podSelector: {}, policyTypes: ['Ingress', 'Egress'] },
    };
    expect(checkObjectSet([compliant(), deny], {})).toEqual([]);
    expect(checkObjectSet([compliant()], {})[0]).toMatchObject({ policy: 'default-deny-network-policy' });
    const allowAll = { ...deny, spec: { ...deny.spec, ingress: [{}] } };
    expect(checkObjectSet([compliant(), allowAll], {})).toHaveLength(1);
  });

  it('lists every policy id once', () => {
    expect(new Set(POLICY_IDS).size).toBe(POLICY_IDS.length);
  });
});

describe('offline schema validation', () => {
  it('names the field of a type error', () => {
    const o = compliant();
    container(o).ports = [{ containerPort: 'http' }];
    expect(schemaProblems(o)).toEqual([
      { field: 'spec.template.spec.containers[0].ports[0].containerPort', message: 'must be integer' },
    ]);
  });

  it('names a missing required field', () => {
    const o = compliant();
    delete (o.spec as Mutable).selector;
    expect(schemaProblems(o)).toEqual([{ field: 'spec.selector', message: 'is required but missing' }]);
  });

  it('reports kinds it has no schema for instead of accepting them', () => {
    expect(schemaProblems({ apiVersion: 'apps/v1', kind: 'Deploymnet' })[0].message).toMatch(
      /no offline schema for apps\/v1 Deploymnet/,
    );
    expect(schemaProblems({ apiVersion: '../../../etc', kind: 'X' })[0].message).toMatch(/no offline schema/);
  });

  it('validates Argo Rollouts objects', () => {
    expect(
      schemaProblems({
        apiVersion: 'argoproj.io/v1alpha1',
        kind: 'Rollout',
        metadata: { name: 'x' },
        spec: { strategy: { blueGreen: {} } },
      }),
    ).toEqual([{ field: 'spec.strategy.blueGreen.activeService', message: 'is required but missing' }]);
  });

  it('validates Argo CD objects', () => {
    expect(
      schemaProblems({
        apiVersion: 'argoproj.io/v1alpha1',
        kind: 'Application',
        metadata: { name: 'x' },
        spec: {},
      }).map((p) => p.field),
    ).toEqual(['spec.destination', 'spec.project']);
  });
});

describe('node-ports', () => {
  const service = (name: string, nodePort?: number): KubeObject => ({
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name },
    spec: { type: 'NodePort', ports: [{ port: 80, ...(nodePort === undefined ? {} : { nodePort }) }] },
  });

  it('accepts fixed nodePorts in range, each used once, and Services without one', () => {
    expect(checkObjectSet([service('a', 30101), service('b', 30102), service('c')], {})).toEqual([]);
  });

  it('refuses what the API server refuses: a nodePort out of range or used twice', () => {
    expect(checkObjectSet([service('a', 3101)], {})).toEqual([
      expect.objectContaining({
        policy: 'node-ports',
        object: 'Service/a',
        field: 'spec.ports[0].nodePort',
        message: expect.stringContaining('nodePort 3101 is outside 30000-32767'),
      }),
    ]);
    expect(checkObjectSet([service('a', 30101), service('b', 30101)], {})).toEqual([
      expect.objectContaining({
        policy: 'node-ports',
        object: 'Service/b',
        message:
          'nodePort 30101 is also used by Service/a: the API server refuses the second ("provided port is already allocated")',
      }),
    ]);
  });
});
