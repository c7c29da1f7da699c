import { createHash } from 'node:crypto';
import { stringify } from 'yaml';
import type { KubeObject } from '../manifests/kubernetes';

/**
 * Shaping a rendered overlay (lib/manifests/kubernetes.ts renders it) for one machine:
 * split per project (its Deployment plus the ConfigMaps it reads), prefixed pod names so several
 * stacks can share a host, ports remapped when the environment is told to listen elsewhere, and a
 * spec hash label that tells whether a running pod still matches the manifests.
 */
interface Container {
  name?: string;
  image?: string;
  env?: {
    name: string;
    value?: string;
    valueFrom?: { configMapKeyRef?: { name?: string } };
  }[];
  envFrom?: { configMapRef?: { name?: string } }[];
  [probe: string]: unknown;
}

interface PodSpec {
  containers?: Container[];
  initContainers?: Container[];
  volumes?: { configMap?: { name?: string } }[];
}

function podTemplate(o: KubeObject): { metadata?: KubeObject['metadata']; spec?: PodSpec } | undefined {
  return (o.spec as { template?: { metadata?: KubeObject['metadata']; spec?: PodSpec } } | undefined)?.template;
}

/** Which project a workload belongs to: its app.kubernetes.io/name label, else its name. */
export function projectOf(o: KubeObject): string | undefined {
  return o.metadata?.labels?.['app.kubernetes.io/name'] ?? o.metadata?.name;
}

function configMapsReadBy(spec: PodSpec | undefined): Set<string> {
  const names = new Set<string>();
  for (const c of [...(spec?.containers ?? []), ...(spec?.initContainers ?? [])]) {
    for (const e of c.envFrom ?? []) if (e.configMapRef?.name) names.add(e.configMapRef.name);
    for (const e of c.env ?? []) if (e.valueFrom?.configMapKeyRef?.name) names.add(e.valueFrom.configMapKeyRef.name);
  }
  for (const v of spec?.volumes ?? []) if (v.configMap?.name) names.add(v.configMap.name);
  return names;
}

export interface ProjectManifest {
  project: string;
  /** The (renamed) Deployment name; podman names the pod `<name>-pod-0`. */
  deployment: string;
  /** Images of the pod's containers. */
  images: string[];
  objects: KubeObject[];
  yaml: string;
  /** sha256 (12 hex) of the manifest: a pod labelled with another hash no longer matches. */
  specHash: string;
}

export const LABEL_INSTANCE = 'slipway.dev/instance';
export const LABEL_PROJECT = 'slipway.dev/project';
export const LABEL_SPEC = 'slipway.dev/spec';

/** `http://127.0.0.1:3101/x` with {3101→3601} → `http://127.0.0.1:3601/x` (loopback hosts only). */
export function remapLoopbackPorts(value: string, portMap: Map<number, number>): string {
  return value.replace(
    /(\/\/(?:127\.0\.0\.1|localhost|0\.0\.0\.0|\[::1\])):(\d{1,5})(?=[/?#]|$|\s)/g,
    (match, host: string, port: string) => {
      const to = portMap.get(Number(port));
      return to === undefined ? match : `${host}:${to}`;
    },
  );
}

function remapProbePorts(container: Container, from: number, to: number): void {
  for (const key of ['livenessProbe', 'readinessProbe', 'startupProbe']) {
    const probe = container[key] as { httpGet?: { port?: unknown }; tcpSocket?: { port?: unknown } } | undefined;
    for (const action of [probe?.httpGet, probe?.tcpSocket]) {
      if (action && Number(action.port) === from) action.port = to;
    }
  }
}

function hash(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 12);
}

/**
 * Per-project manifests for a host-network machine. `ports` are the wanted ports per project; each
 * project's current port is read from its ConfigMap's PORT (what the service listens on), and every
 * loopback URL, probe and PORT value pointing at it is rewritten.
 */
export function shapeForHost(
  objects: KubeObject[],
  opts: {
    instance: string;
    ports: Record<string, number>;
    projects?: string[];
  },
): ProjectManifest[] {
  const configMaps = new Map(
    objects.filter((o) => o.kind === 'ConfigMap' && o.metadata?.name).map((o) => [o.metadata?.name as string, o]),
  );
  const workloads = objects.filter((o) => o.kind === 'Deployment');
  const portMap = new Map<number, number>();
  for (const w of workloads) {
    const project = projectOf(w);
    const wanted = project ? opts.ports[project] : undefined;
    if (wanted === undefined) continue;
    for (const name of configMapsReadBy(podTemplate(w)?.spec)) {
      const current = Number(configMaps.get(name)?.data?.['PORT']);
      if (Number.isInteger(current) && current > 0 && current !== wanted) portMap.set(current, wanted);
    }
  }
  const manifests: ProjectManifest[] = [];
  for (const original of workloads) {
    const project = projectOf(original);
    if (!project || (opts.projects && !opts.projects.includes(project))) continue;
    const workload = structuredClone(original);
    const template = podTemplate(workload);
    const spec = template?.spec;
    const containers = [...(spec?.containers ?? []), ...(spec?.initContainers ?? [])];
    for (const c of containers) {
      for (const [from, to] of portMap) remapProbePorts(c, from, to);
      for (const e of c.env ?? []) if (typeof e.value === 'string') e.value = remapLoopbackPorts(e.value, portMap);
    }
    const annotations = template?.metadata?.annotations;
    if (annotations?.['prometheus.io/port'] && portMap.has(Number(annotations['prometheus.io/port']))) {
      annotations['prometheus.io/port'] = String(portMap.get(Number(annotations['prometheus.io/port'])));
    }
    const maps = [...configMapsReadBy(spec)].flatMap((name) => {
      const cm = configMaps.get(name);
      if (!cm) return [];
      const copy = structuredClone(cm);
      for (const [key, value] of Object.entries(copy.data ?? {})) {
        if (typeof value !== 'string') continue;
        (copy.data as Record<string, string>)[key] =
          key === 'PORT' && portMap.has(Number(value))
            ? String(portMap.get(Number(value)))
            : remapLoopbackPorts(value, portMap);
      }
      return [copy];
    });
    const deployment = `${opts.instance}-${workload.metadata?.name ?? project}`;
    workload.metadata = { ...(workload.metadata ?? {}), name: deployment };
    const body = [...maps, workload].map((o) => stringify(o)).join('---\n');
    const specHash = hash(body);
    if (template) {
      template.metadata = {
        ...(template.metadata ?? {}),
        labels: {
          ...(template.metadata?.labels ?? {}),
          [LABEL_INSTANCE]: opts.instance,
          [LABEL_PROJECT]: project,
          [LABEL_SPEC]: specHash,
        },
      };
    }
    const objectsOut = [...maps, workload];
    manifests.push({
      project,
      deployment,
      images: (spec?.containers ?? []).map((c) => c.image ?? ''),
      objects: objectsOut,
      yaml: objectsOut.map((o) => stringify(o)).join('---\n'),
      specHash,
    });
  }
  return manifests;
}

/** Namespace and Deployment name per project, for kubectl rollout status. */
export function deploymentsByProject(objects: KubeObject[]): Map<string, { name: string; namespace?: string }> {
  const out = new Map<string, { name: string; namespace?: string }>();
  for (const o of objects) {
    if (o.kind !== 'Deployment' || !o.metadata?.name) continue;
    const project = projectOf(o);
    if (project)
      out.set(project, {
        name: o.metadata.name,
        namespace: o.metadata.namespace,
      });
  }
  return out;
}
