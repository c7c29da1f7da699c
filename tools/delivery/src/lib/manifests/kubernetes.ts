import { parseAllDocuments } from 'yaml';
import { runProcess, type ProcessRunner } from '../shared/process';

/**
 * Kubernetes objects as the plugin sees them, and the one kustomize renderer: `kubectl kustomize`
 * (offline) turned into objects. The policy checks and every cluster adapter render through here.
 */
export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata?: {
    name?: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
  data?: Record<string, string>;
  spec?: Record<string, unknown>;
  [key: string]: unknown;
}

/** kubectl is missing, the kustomization does not build, or its output is not YAML. */
export class RenderError extends Error {}

export interface KustomizeOptions {
  run?: ProcessRunner;
  /** The kubectl to run (default `kubectl`). */
  kubectl?: string;
  timeoutMs?: number;
  /** How to name the kustomization in errors (default: the directory as given). */
  shownAs?: string;
  /** A temporary directory whose path errors show as `<render>` instead. */
  hidePath?: string;
}

/** `kubectl kustomize <dir>`: the rendered YAML. */
export async function kustomizeBuild(dir: string, opts: KustomizeOptions = {}): Promise<string> {
  const kubectl = opts.kubectl ?? 'kubectl';
  const shown = opts.shownAs ?? dir;
  let result;
  try {
    result = await (opts.run ?? runProcess)(kubectl, ['kustomize', dir], { timeoutMs: opts.timeoutMs ?? 120_000 });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new RenderError(
        `${kubectl} is not installed (needed to render ${shown}); install kubectl (it includes kustomize), e.g. apt-get install -y kubectl, or pass --kubectl=<path>`,
      );
    }
    throw error;
  }
  if (result.code !== 0) {
    let message = result.stderr.trim().replace(/^E\d{4} [\d:.]+\s+\d+ run\.go:\d+\] /m, '');
    if (opts.hidePath) message = message.split(opts.hidePath).join('<render>');
    throw new RenderError(`kubectl kustomize ${shown} failed: ${message}`);
  }
  return result.stdout;
}

/** Every object of a multi-document YAML stream (empty documents dropped). */
export function parseObjects(yamlText: string): KubeObject[] {
  return parseAllDocuments(yamlText)
    .map((doc) => {
      if (doc.errors.length > 0)
        throw new RenderError(`rendered manifests are not valid YAML: ${doc.errors[0].message}`);
      return doc.toJS() as KubeObject | null;
    })
    .filter((o): o is KubeObject => !!o && typeof o === 'object');
}
