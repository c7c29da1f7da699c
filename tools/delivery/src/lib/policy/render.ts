import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseAllDocuments } from 'yaml';
import { runProcess } from '../shared/process';
import type { KubeObject } from './policies';

/**
 * Render a kustomization with `kubectl kustomize`, keeping track of which source file each object
 * came from: the overlay is wrapped in a temporary kustomization with `buildMetadata:
 * [originAnnotations]`, so the overlay itself needs no change and ships no annotation.
 */
export interface RenderedObject {
  object: KubeObject;
  /** Workspace-relative source file of the object (or the kustomization that generated it). */
  file: string;
}

const ORIGIN = 'config.kubernetes.io/origin';

export class RenderError extends Error {}

export async function renderKustomization(
  kustomizationDir: string,
  opts: { workspaceRoot: string; kubectl?: string; timeoutMs?: number },
): Promise<RenderedObject[]> {
  const wrapper = await fs.mkdtemp(path.join(os.tmpdir(), 'slipway-render-'));
  const relDir = path.relative(opts.workspaceRoot, kustomizationDir) || '.';
  try {
    await fs.writeFile(
      path.join(wrapper, 'kustomization.yaml'),
      `resources:\n  - ${JSON.stringify(path.relative(wrapper, kustomizationDir))}\nbuildMetadata: [originAnnotations]\n`,
    );
    const kubectl = opts.kubectl ?? 'kubectl';
    let result;
    try {
      result = await runProcess(kubectl, ['kustomize', wrapper], { timeoutMs: opts.timeoutMs ?? 120_000 });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
        throw new RenderError(
          `${kubectl} is not installed (needed to render ${relDir}); install kubectl (it includes kustomize) or pass --kubectl=<path>`,
        );
      }
      throw error;
    }
    if (result.code !== 0) {
      const message = result.stderr
        .trim()
        .replace(/^E\d{4} [\d:.]+\s+\d+ run\.go:\d+\] /m, '')
        .split(wrapper)
        .join('<render>');
      throw new RenderError(`kubectl kustomize ${relDir} failed: ${message}`);
    }
    const docs = parseAllDocuments(result.stdout);
    const list = Array.isArray(docs) ? docs : [docs];
    return list
      .map((d) => d.toJS() as KubeObject | null)
      .filter((o): o is KubeObject => !!o && typeof o === 'object')
      .map((object) => {
        const annotations = object.metadata?.annotations ?? {};
        const origin = annotations[ORIGIN];
        let file = path.join(relDir, 'kustomization.yaml');
        if (origin) {
          const m = /(?:^|\n)(?:path|configuredIn):\s*(\S+)/.exec(origin);
          if (m) file = path.relative(opts.workspaceRoot, path.resolve(wrapper, m[1]));
          delete annotations[ORIGIN];
          if (object.metadata && Object.keys(annotations).length === 0) delete object.metadata.annotations;
        }
        return { object, file };
      });
  } finally {
    await fs.rm(wrapper, { recursive: true, force: true });
  }
}
