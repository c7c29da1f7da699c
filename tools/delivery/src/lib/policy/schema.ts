import { clusterPolicyProblems, isKyvernoClusterPolicy } from './kyverno';

/**
 * Offline schema validation of Kubernetes objects with the kubernetes-models validators (the
 * OpenAPI schemas of the Kubernetes API, compiled), @kubernetes-models/argo-cd and
 * @kubernetes-models/argo-rollouts for Argo's CRDs. An object whose apiVersion/kind has no schema here is reported, not silently accepted.
 */
export interface SchemaProblem {
  field: string;
  message: string;
}

const API_VERSION = /^(?:([a-z0-9]+(?:[.-][a-z0-9]+)*)\/)?(v[0-9]+(?:(?:alpha|beta)[0-9]+)?)$/;
const KIND = /^[A-Z][A-Za-z0-9]*$/;

/** Argo Rollouts' kinds share the argoproj.io group with Argo CD's but live in their own models. */
const ARGO_ROLLOUTS_KINDS = new Set([
  'Rollout',
  'AnalysisTemplate',
  'ClusterAnalysisTemplate',
  'AnalysisRun',
  'Experiment',
]);

/** Module that holds the models of an API group/version, or undefined if none is installed. */
function modelModule(apiVersion: string, kind: string): string | undefined {
  const m = API_VERSION.exec(apiVersion);
  if (!m) return undefined;
  const [, group, version] = m;
  if (!group) return `kubernetes-models/${version}`;
  if (group === 'argoproj.io') {
    return ARGO_ROLLOUTS_KINDS.has(kind)
      ? `@kubernetes-models/argo-rollouts/${group}/${version}`
      : `@kubernetes-models/argo-cd/${group}/${version}`;
  }
  if (!group.includes('.') || group.endsWith('.k8s.io')) return `kubernetes-models/${group}/${version}`;
  return undefined;
}

type ModelClass = new (data: unknown) => { validate(): void };

function loadModel(apiVersion: string, kind: string): ModelClass | undefined {
  const mod = modelModule(apiVersion, kind);
  if (!mod || !KIND.test(kind)) return undefined;
  try {
    const exported = require(mod) as Record<string, unknown>;
    const cls = exported[kind];
    return typeof cls === 'function' ? (cls as ModelClass) : undefined;
  } catch {
    return undefined;
  }
}

function toField(instancePath: string): string {
  return instancePath
    .replace(/^\//, '')
    .split('/')
    .filter(Boolean)
    .map((p, i) => (/^\d+$/.test(p) ? `[${p}]` : `${i === 0 ? '' : '.'}${p.replace(/~1/g, '/').replace(/~0/g, '~')}`))
    .join('');
}

export function schemaProblems(object: {
  apiVersion?: unknown;
  kind?: unknown;
  [field: string]: unknown;
}): SchemaProblem[] {
  const apiVersion = typeof object.apiVersion === 'string' ? object.apiVersion : '';
  const kind = typeof object.kind === 'string' ? object.kind : '';
  if (!apiVersion || !kind) return [{ field: apiVersion ? 'kind' : 'apiVersion', message: 'is missing' }];
  // Kyverno has no kubernetes-models package; its ClusterPolicy schema is ours (kyverno.ts).
  if (isKyvernoClusterPolicy(apiVersion, kind)) return clusterPolicyProblems(object);
  const Model = loadModel(apiVersion, kind);
  if (!Model)
    return [
      {
        field: 'apiVersion',
        message: `no offline schema for ${apiVersion} ${kind} (unknown or misspelled kind/version)`,
      },
    ];
  try {
    new Model(object).validate();
    return [];
  } catch (error) {
    const errors = (
      error as { errors?: { instancePath?: string; message?: string; params?: Record<string, unknown> }[] }
    ).errors;
    if (!Array.isArray(errors) || errors.length === 0) return [{ field: '', message: (error as Error).message }];
    return errors.map((e) => {
      const missing = e.params && typeof e.params.missingProperty === 'string' ? e.params.missingProperty : undefined;
      const base = toField(e.instancePath ?? '');
      return {
        field: missing ? `${base ? `${base}.` : ''}${missing}` : base || '(object)',
        // The field already names a missing property; ajv versions quote it differently.
        message: missing ? 'is required but missing' : (e.message ?? 'is invalid'),
      };
    });
  }
}
