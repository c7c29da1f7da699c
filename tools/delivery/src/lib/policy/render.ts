import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { kustomizeBuild, parseObjects, type KubeObject } from '../manifests/kubernetes';

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
    const rendered = await kustomizeBuild(wrapper, {
      kubectl: opts.kubectl,
      timeoutMs: opts.timeoutMs,
      shownAs: relDir,
      hidePath: wrapper,
    });
    return parseObjects(rendered).map((object) => {
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
