import { isImmutableTag, parseImageReference } from '../image/reference';
import type { KubeObject } from '../manifests/kubernetes';

/**
 * Manifest policies as code. Each policy inspects one rendered Kubernetes object and returns
 * violations that name the object, the field and the fix; the caller adds the source file.
 */
export interface PolicyContext {
  /** The overlay the object was rendered from (e.g. `production`), if any. */
  overlay?: string;
  /** The overlay's kustomization file, where image references are pinned. */
  imagesFile?: string;
}

export interface PolicyViolation {
  policy: string;
  /** `Kind/name`. */
  object: string;
  /** Dotted path of the offending field, with container indexes named: `spec.template.spec.containers[catalog].image`. */
  field: string;
  message: string;
  fix: string;
  /** Set when the fix belongs in another file than the object's source (image pins live in the overlay). */
  fixFile?: string;
}

export interface Policy {
  id: string;
  description: string;
  check(object: KubeObject, ctx: PolicyContext): PolicyViolation[];
}

interface Container {
  name?: string;
  image?: string;
  livenessProbe?: { httpGet?: { path?: string } } & Record<string, unknown>;
  readinessProbe?: { httpGet?: { path?: string } } & Record<string, unknown>;
  resources?: { requests?: Record<string, unknown>; limits?: Record<string, unknown> };
  securityContext?: SecurityContext & {
    readOnlyRootFilesystem?: boolean;
    allowPrivilegeEscalation?: boolean;
    privileged?: boolean;
    capabilities?: { drop?: string[]; add?: string[] };
  };
  volumeMounts?: { name?: string; mountPath?: string }[];
}

interface SecurityContext {
  runAsNonRoot?: boolean;
  runAsUser?: number;
  seccompProfile?: { type?: string };
}

interface PodSpec {
  containers?: Container[];
  initContainers?: Container[];
  securityContext?: SecurityContext;
  volumes?: { name?: string; emptyDir?: unknown }[];
  hostPID?: boolean;
  hostIPC?: boolean;
  topologySpreadConstraints?: unknown[];
}

interface Workload {
  object: KubeObject;
  podSpec: PodSpec;
  /** Path of the pod spec inside the object. */
  podPath: string;
  /** Path of the pod template metadata, when the object has a template. */
  templateAnnotations?: Record<string, string>;
  longRunning: boolean;
  replicas?: number;
}

const get = (value: unknown, ...keys: string[]): unknown =>
  keys.reduce<unknown>((v, k) => (v && typeof v === 'object' ? (v as Record<string, unknown>)[k] : undefined), value);

/** The pod spec of any workload kind (Deployment, StatefulSet, DaemonSet, ReplicaSet, Rollout, Job, CronJob, Pod). */
export function workloadOf(object: KubeObject): Workload | undefined {
  const kind = object.kind ?? '';
  if (kind === 'Pod') return { object, podSpec: (object.spec ?? {}) as PodSpec, podPath: 'spec', longRunning: true };
  if (kind === 'CronJob') {
    const spec = get(object, 'spec', 'jobTemplate', 'spec', 'template', 'spec') as PodSpec | undefined;
    return spec
      ? { object, podSpec: spec, podPath: 'spec.jobTemplate.spec.template.spec', longRunning: false }
      : undefined;
  }
  if (['Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet', 'Rollout', 'Job'].includes(kind)) {
    const spec = get(object, 'spec', 'template', 'spec') as PodSpec | undefined;
    if (!spec) return undefined;
    return {
      object,
      podSpec: spec,
      podPath: 'spec.template.spec',
      templateAnnotations: (get(object, 'spec', 'template', 'metadata', 'annotations') ?? {}) as Record<string, string>,
      longRunning: kind !== 'Job',
      replicas:
        typeof object.spec?.replicas === 'number'
          ? (object.spec.replicas as number)
          : kind === 'DaemonSet'
            ? undefined
            : 1,
    };
  }
  return undefined;
}

const objectName = (o: KubeObject) => `${o.kind ?? '?'}/${o.metadata?.name ?? '?'}`;

function containersOf(w: Workload): { c: Container; path: string }[] {
  return [
    ...(w.podSpec.initContainers ?? []).map((c, i) => ({ c, path: `${w.podPath}.initContainers[${c.name ?? i}]` })),
    ...(w.podSpec.containers ?? []).map((c, i) => ({ c, path: `${w.podPath}.containers[${c.name ?? i}]` })),
  ];
}

/** Helper for the common "every container must …" shape. */
function perContainer(
  id: string,
  description: string,
  test: (c: Container, w: Workload, path: string, ctx: PolicyContext) => Omit<PolicyViolation, 'policy' | 'object'>[],
  opts: { appOnly?: boolean; longRunningOnly?: boolean } = {},
): Policy {
  return {
    id,
    description,
    check(object, ctx) {
      const w = workloadOf(object);
      if (!w || (opts.longRunningOnly && !w.longRunning)) return [];
      const list = opts.appOnly
        ? (w.podSpec.containers ?? []).map((c, i) => ({ c, path: `${w.podPath}.containers[${c.name ?? i}]` }))
        : containersOf(w);
      return list.flatMap(({ c, path }) =>
        test(c, w, path, ctx).map((v) => ({ policy: id, object: objectName(object), ...v })),
      );
    },
  };
}

/** Container setting wins over the pod's, as in Kubernetes. */
function effective<K extends keyof SecurityContext>(c: Container, w: Workload, key: K): SecurityContext[K] | undefined {
  return c.securityContext?.[key] ?? w.podSpec.securityContext?.[key];
}

export const POLICIES: Policy[] = [
  perContainer('image-pinned', 'Images are pinned by digest or an immutable tag, never latest.', (c, _w, path, ctx) => {
    const field = `${path}.image`;
    const fixFile = ctx.imagesFile;
    const fix = ctx.imagesFile
      ? `pin it in ${ctx.imagesFile} images: (newTag + digest), e.g. nx run deploy:bump --environment=${ctx.overlay ?? '<env>'}`
      : 'use <repository>:<tag>@sha256:<digest>';
    if (!c.image) return [{ field, message: 'has no image', fix, fixFile }];
    let ref;
    try {
      ref = parseImageReference(c.image);
    } catch {
      return [{ field, message: `'${c.image}' is not a valid image reference`, fix, fixFile }];
    }
    if (ref.tag === 'latest') return [{ field, message: `'${c.image}' uses the moving tag 'latest'`, fix, fixFile }];
    if (ref.digest) return [];
    if (ref.tag && isImmutableTag(ref.tag)) return [];
    return [
      {
        field,
        message: ref.tag
          ? `'${c.image}' is pinned by the tag '${ref.tag}' only, which can move (no digest, not an immutable h-/sha-/semver tag)`
          : `'${c.image}' has neither tag nor digest (it resolves to latest)`,
        fix,
        fixFile,
      },
    ];
  }),

  perContainer(
    'probes',
    'Long-running containers have liveness and readiness probes.',
    (c, _w, path) =>
      (['livenessProbe', 'readinessProbe'] as const)
        .filter((p) => !c[p])
        .map((p) => ({
          field: `${path}.${p}`,
          message: 'is missing',
          fix: `add ${p}: { httpGet: { path: /health/${p === 'livenessProbe' ? 'liveness' : 'readiness'}, port: <port> } }`,
        })),
    { appOnly: true, longRunningOnly: true },
  ),

  perContainer(
    'probe-paths',
    'HTTP probes use the service-kit endpoints: liveness /health/liveness, readiness /health/readiness.',
    (c, _w, path) => {
      const out: Omit<PolicyViolation, 'policy' | 'object'>[] = [];
      const expected = { livenessProbe: '/health/liveness', readinessProbe: '/health/readiness' } as const;
      for (const [probe, want] of Object.entries(expected) as [keyof typeof expected, string][]) {
        const got = c[probe]?.httpGet?.path;
        if (got !== undefined && got !== want) {
          out.push({
            field: `${path}.${probe}.httpGet.path`,
            message: `is '${got}'`,
            fix: `use ${want} (the service-kit endpoint)`,
          });
        }
      }
      return out;
    },
    { appOnly: true, longRunningOnly: true },
  ),

  perContainer('resources', 'Every container requests and limits cpu and memory.', (c, _w, path) => {
    const out: Omit<PolicyViolation, 'policy' | 'object'>[] = [];
    for (const kind of ['requests', 'limits'] as const) {
      for (const res of ['cpu', 'memory']) {
        if (c.resources?.[kind]?.[res] === undefined) {
          out.push({
            field: `${path}.resources.${kind}.${res}`,
            message: 'is missing',
            fix: `set resources.${kind}.${res} (e.g. ${res === 'cpu' ? '500m' : '256Mi'})`,
          });
        }
      }
    }
    return out;
  }),

  perContainer('run-as-non-root', 'Containers run as non-root (runAsNonRoot: true).', (c, w, path) =>
    effective(c, w, 'runAsNonRoot') === true
      ? []
      : [
          {
            field: `${path}.securityContext.runAsNonRoot`,
            message: 'is not true (pod or container)',
            fix: 'set securityContext.runAsNonRoot: true',
          },
        ],
  ),

  perContainer('fixed-uid', 'Containers run with a fixed non-root uid (runAsUser ≥ 1000).', (c, w, path) => {
    const uid = effective(c, w, 'runAsUser');
    if (typeof uid === 'number' && uid >= 1000) return [];
    return [
      {
        field: `${path}.securityContext.runAsUser`,
        message: uid === undefined ? 'is not set (the uid then depends on the image)' : `is ${uid}, below 1000`,
        fix: 'set securityContext.runAsUser to a fixed uid ≥ 1000 (Slipway uses 10001)',
      },
    ];
  }),

  perContainer('read-only-root-filesystem', 'Root filesystems are read-only.', (c, _w, path) =>
    c.securityContext?.readOnlyRootFilesystem === true
      ? []
      : [
          {
            field: `${path}.securityContext.readOnlyRootFilesystem`,
            message: 'is not true: the container can write to its image filesystem',
            fix: 'set readOnlyRootFilesystem: true and mount an emptyDir at /tmp for scratch files',
          },
        ],
  ),

  perContainer('tmp-emptydir', 'A read-only container gets a writable emptyDir at /tmp.', (c, w, path) => {
    const mount = (c.volumeMounts ?? []).find((m) => m.mountPath === '/tmp');
    const volume = mount && (w.podSpec.volumes ?? []).find((v) => v.name === mount.name);
    if (mount && volume?.emptyDir !== undefined) return [];
    return [
      {
        field: `${path}.volumeMounts`,
        message: mount ? `mounts /tmp from volume '${mount.name}', which is not an emptyDir` : 'has no /tmp mount',
        fix: 'add volumes: [{name: tmp, emptyDir: {}}] and volumeMounts: [{name: tmp, mountPath: /tmp}]',
      },
    ];
  }),

  perContainer('no-privilege-escalation', 'allowPrivilegeEscalation is false.', (c, _w, path) =>
    c.securityContext?.allowPrivilegeEscalation === false
      ? []
      : [
          {
            field: `${path}.securityContext.allowPrivilegeEscalation`,
            message: 'is not false',
            fix: 'set allowPrivilegeEscalation: false',
          },
        ],
  ),

  perContainer('drop-all-capabilities', 'All Linux capabilities are dropped and none added.', (c, _w, path) => {
    const out: Omit<PolicyViolation, 'policy' | 'object'>[] = [];
    if (!(c.securityContext?.capabilities?.drop ?? []).includes('ALL')) {
      out.push({
        field: `${path}.securityContext.capabilities.drop`,
        message: 'does not include ALL',
        fix: 'set capabilities: { drop: [ALL] }',
      });
    }
    const added = c.securityContext?.capabilities?.add ?? [];
    if (added.length > 0) {
      out.push({
        field: `${path}.securityContext.capabilities.add`,
        message: `adds ${added.join(', ')}`,
        fix: 'remove capabilities.add (listen on a port ≥ 1024 instead of NET_BIND_SERVICE)',
      });
    }
    return out;
  }),

  perContainer(
    'seccomp-runtime-default',
    'Containers use the RuntimeDefault (or a Localhost) seccomp profile.',
    (c, w, path) => {
      const type = effective(c, w, 'seccompProfile')?.type;
      return type === 'RuntimeDefault' || type === 'Localhost'
        ? []
        : [
            {
              field: `${path}.securityContext.seccompProfile.type`,
              message: type ? `is ${type}` : 'is not set (pod or container)',
              fix: 'set seccompProfile: { type: RuntimeDefault } on the pod',
            },
          ];
    },
  ),

  perContainer('not-privileged', 'No privileged containers.', (c, _w, path) =>
    c.securityContext?.privileged === true
      ? [{ field: `${path}.securityContext.privileged`, message: 'is true', fix: 'remove privileged: true' }]
      : [],
  ),

  {
    id: 'no-host-namespaces',
    description: 'Pods do not share the host PID or IPC namespace.',
    check(object) {
      const w = workloadOf(object);
      if (!w) return [];
      return (['hostPID', 'hostIPC'] as const)
        .filter((k) => w.podSpec[k] === true)
        .map((k) => ({
          policy: 'no-host-namespaces',
          object: objectName(object),
          field: `${w.podPath}.${k}`,
          message: 'is true',
          fix: `remove ${k}`,
        }));
    },
  },

  {
    id: 'prometheus-scrape',
    description: 'Pod templates carry Prometheus scrape annotations (prometheus.io/scrape, port).',
    check(object) {
      const w = workloadOf(object);
      if (!w || !w.longRunning || !w.templateAnnotations) return [];
      const a = w.templateAnnotations;
      if (a['prometheus.io/scrape'] === 'true' && a['prometheus.io/port']) return [];
      return [
        {
          policy: 'prometheus-scrape',
          object: objectName(object),
          field: 'spec.template.metadata.annotations',
          message: 'lacks prometheus.io/scrape: "true" and prometheus.io/port',
          fix: 'add prometheus.io/scrape: "true", prometheus.io/port: "<port>", prometheus.io/path: /metrics',
        },
      ];
    },
  },

  {
    id: 'topology-spread',
    description: 'Workloads with more than one replica spread across nodes.',
    check(object) {
      const w = workloadOf(object);
      if (!w || !w.longRunning || (w.replicas ?? 1) <= 1) return [];
      if ((w.podSpec.topologySpreadConstraints ?? []).length > 0) return [];
      return [
        {
          policy: 'topology-spread',
          object: objectName(object),
          field: `${w.podPath}.topologySpreadConstraints`,
          message: `is missing with ${w.replicas} replicas (all could land on one node)`,
          fix: 'add a topologySpreadConstraints entry on kubernetes.io/hostname',
        },
      ];
    },
  },
];

/** Policies over the whole rendered overlay (not one object). */
export interface SetPolicy {
  id: string;
  description: string;
  check(objects: KubeObject[], ctx: PolicyContext): PolicyViolation[];
}

/** The API server's default --service-node-port-range: a nodePort outside it is refused. */
export const NODE_PORT_RANGE = { min: 30000, max: 32767 } as const;

const NODE_PORTS_POLICY: SetPolicy = {
  id: 'node-ports',
  description:
    "Every fixed Service nodePort is inside the API server's default range (30000-32767) and used by one Service only: the API server refuses either on apply.",
  check(objects) {
    const out: PolicyViolation[] = [];
    const seen = new Map<number, string>();
    for (const o of objects) {
      if (o.kind !== 'Service') continue;
      const name = `Service/${o.metadata?.name ?? '?'}`;
      const ports = (get(o, 'spec', 'ports') as { port?: number; nodePort?: unknown }[] | undefined) ?? [];
      ports.forEach((port, index) => {
        if (port.nodePort === undefined) return;
        const field = `spec.ports[${index}].nodePort`;
        const value = Number(port.nodePort);
        if (!Number.isInteger(value) || value < NODE_PORT_RANGE.min || value > NODE_PORT_RANGE.max) {
          out.push({
            policy: 'node-ports',
            object: name,
            field,
            message: `nodePort ${String(port.nodePort)} is outside ${NODE_PORT_RANGE.min}-${NODE_PORT_RANGE.max}: the API server refuses it ("provided port is not in the valid range")`,
            fix: `pick a nodePort between ${NODE_PORT_RANGE.min} and ${NODE_PORT_RANGE.max}, or leave it out and let the cluster choose`,
          });
          return;
        }
        const other = seen.get(value);
        if (other) {
          out.push({
            policy: 'node-ports',
            object: name,
            field,
            message: `nodePort ${value} is also used by ${other}: the API server refuses the second ("provided port is already allocated")`,
            fix: 'give every Service its own nodePort',
          });
        }
        seen.set(value, name);
      });
    }
    return out;
  },
};

export const SET_POLICIES: SetPolicy[] = [
  {
    id: 'default-deny-network-policy',
    description: 'An overlay with workloads ships a default-deny NetworkPolicy (ingress and egress) for its namespace.',
    check(objects) {
      if (!objects.some((o) => workloadOf(o))) return [];
      const denyAll = objects.some(
        (o) =>
          o.kind === 'NetworkPolicy' &&
          Object.keys((get(o, 'spec', 'podSelector') ?? { x: 1 }) as object).length === 0 &&
          ['Ingress', 'Egress'].every((t) =>
            ((get(o, 'spec', 'policyTypes') as string[] | undefined) ?? []).includes(t),
          ) &&
          get(o, 'spec', 'ingress') === undefined &&
          get(o, 'spec', 'egress') === undefined,
      );
      return denyAll
        ? []
        : [
            {
              policy: 'default-deny-network-policy',
              object: 'NetworkPolicy/*',
              field: 'spec.podSelector',
              message:
                'no NetworkPolicy with podSelector: {} and policyTypes [Ingress, Egress] denies all traffic by default',
              fix: 'include deploy/k8s/base/platform (default-deny-all) in the overlay',
            },
          ];
    },
  },
  NODE_PORTS_POLICY,
];

export function checkObject(
  object: KubeObject,
  ctx: PolicyContext,
  skip: ReadonlySet<string> = new Set(),
): PolicyViolation[] {
  return POLICIES.filter((p) => !skip.has(p.id)).flatMap((p) => p.check(object, ctx));
}

export function checkObjectSet(
  objects: KubeObject[],
  ctx: PolicyContext,
  skip: ReadonlySet<string> = new Set(),
): PolicyViolation[] {
  return SET_POLICIES.filter((p) => !skip.has(p.id)).flatMap((p) => p.check(objects, ctx));
}

export const POLICY_IDS = [...POLICIES.map((p) => p.id), ...SET_POLICIES.map((p) => p.id)];
