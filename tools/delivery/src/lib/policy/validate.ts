import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { DeliveryInputError } from '../shared/errors';
import { checkObject, checkObjectSet, POLICY_IDS, workloadOf, type PolicyViolation } from './policies';
import { renderKustomization, type RenderedObject } from './render';
import { schemaProblems } from './schema';
import { isKyvernoClusterPolicy, trustPolicyMismatches, type ClusterPolicy } from './kyverno';

/**
 * `deploy:validate`: render every overlay (and extra kustomizations such as deploy/argocd), validate
 * every object against the Kubernetes schemas offline, and enforce the policies. Every finding names
 * the file, the object, the field and the fix.
 */
export interface PolicyExemption {
  overlay: string;
  policy: string;
  reason: string;
}

export interface ValidateOptions {
  workspaceRoot: string;
  overlaysDir?: string;
  /** Overlay names; default every folder of overlaysDir with a kustomization.yaml. */
  overlays?: string[];
  /** Other kustomization folders to render and schema-check (workload policies apply too). */
  extraKustomizations?: string[];
  kubectl?: string;
  exemptions?: PolicyExemption[];
}

export interface Finding {
  source: string;
  policy: string;
  file: string;
  object: string;
  field: string;
  message: string;
  fix: string;
}

export interface ValidateReport {
  sources: { name: string; dir: string; objects: number; findings: number }[];
  findings: Finding[];
  ok: boolean;
}

async function listOverlays(dir: string): Promise<string[]> {
  const entries = await fs.readdir(dir, { withFileTypes: true }).catch(() => {
    throw new DeliveryInputError(`overlays folder ${dir} does not exist`, 'pass --overlays-dir=<folder of overlays>');
  });
  const out: string[] = [];
  for (const e of entries) {
    if (!e.isDirectory()) continue;
    const has = await fs
      .access(path.join(dir, e.name, 'kustomization.yaml'))
      .then(() => true)
      .catch(() => false);
    if (has) out.push(e.name);
  }
  return out.sort();
}

function validateExemptions(exemptions: PolicyExemption[]): void {
  for (const ex of exemptions) {
    if (!POLICY_IDS.includes(ex.policy)) {
      throw new DeliveryInputError(
        `exemption for overlay '${ex.overlay}' names unknown policy '${ex.policy}'`,
        `use one of: ${POLICY_IDS.join(', ')}`,
      );
    }
    if (!ex.reason || !ex.reason.trim()) {
      throw new DeliveryInputError(
        `exemption of policy '${ex.policy}' for overlay '${ex.overlay}' has no reason`,
        'say why the policy does not apply there',
      );
    }
  }
}

function findingsFor(
  source: string,
  rendered: RenderedObject[],
  imagesFile: string | undefined,
  overlay: string | undefined,
  skip: Set<string>,
  workspaceRoot: string,
): Finding[] {
  const out: Finding[] = [];
  const seen = new Map<string, string>();
  for (const { object, file } of rendered) {
    const name = `${object.kind ?? '?'}/${object.metadata?.name ?? '?'}`;
    const key = `${object.apiVersion}|${name}|${object.metadata?.namespace ?? ''}`;
    if (seen.has(key)) {
      out.push({
        source,
        policy: 'unique-objects',
        file,
        object: name,
        field: 'metadata.name',
        message: `is also defined in ${seen.get(key)}`,
        fix: 'give each object a unique name',
      });
    }
    seen.set(key, file);
    const problems = schemaProblems(object);
    // An admission policy that verifies images must require what the deploy's trust policy requires.
    if (problems.length === 0 && isKyvernoClusterPolicy(String(object.apiVersion), String(object.kind)))
      for (const m of trustPolicyMismatches(object as unknown as ClusterPolicy, workspaceRoot))
        out.push({
          source,
          policy: 'trust-policy',
          file,
          object: name,
          field: m.field,
          message: m.message,
          fix: m.fix,
        });
    for (const p of problems) {
      out.push({
        source,
        policy: 'schema',
        file,
        object: name,
        field: p.field,
        message: p.message,
        fix: 'make the object match the Kubernetes API schema of its apiVersion/kind',
      });
    }
    const ctx = { overlay, imagesFile };
    for (const v of checkObject(object, ctx, skip)) out.push(toFinding(source, file, v));
  }
  for (const v of checkObjectSet(
    rendered.map((r) => r.object),
    { overlay, imagesFile },
    skip,
  )) {
    out.push(toFinding(source, imagesFile ?? rendered[0]?.file ?? source, v));
  }
  return out;
}

function toFinding(source: string, file: string, v: PolicyViolation): Finding {
  return {
    source,
    policy: v.policy,
    file: v.fixFile ? `${file} (fix in ${v.fixFile})` : file,
    object: v.object,
    field: v.field,
    message: v.message,
    fix: v.fix,
  };
}

export async function validateManifests(opts: ValidateOptions): Promise<ValidateReport> {
  const root = opts.workspaceRoot;
  const overlaysDir = opts.overlaysDir ?? 'deploy/k8s/overlays';
  const exemptions = opts.exemptions ?? [];
  validateExemptions(exemptions);
  const overlays = opts.overlays ?? (await listOverlays(path.join(root, overlaysDir)));
  if (overlays.length === 0)
    throw new DeliveryInputError(
      `no overlays found in ${overlaysDir}`,
      'add <overlay>/kustomization.yaml folders or pass --overlays',
    );
  const report: ValidateReport = { sources: [], findings: [], ok: true };
  const jobs = [
    ...overlays.map((o) => ({ name: o, dir: path.join(overlaysDir, o), overlay: o as string | undefined })),
    ...(opts.extraKustomizations ?? []).map((d) => ({ name: d, dir: d, overlay: undefined })),
  ];
  for (const job of jobs) {
    const abs = path.join(root, job.dir);
    await fs.access(path.join(abs, 'kustomization.yaml')).catch(() => {
      throw new DeliveryInputError(
        `${job.dir}/kustomization.yaml does not exist`,
        `create it, or drop '${job.name}' from the list`,
      );
    });
    const rendered = await renderKustomization(abs, { workspaceRoot: root, kubectl: opts.kubectl });
    const skip = new Set(exemptions.filter((e) => e.overlay === job.overlay).map((e) => e.policy));
    const imagesFile = job.overlay ? path.join(job.dir, 'kustomization.yaml') : undefined;
    const findings = findingsFor(job.name, rendered, imagesFile, job.overlay, skip, root);
    if (job.overlay && !rendered.some((r) => workloadOf(r.object))) {
      findings.push({
        source: job.name,
        policy: 'has-workloads',
        file: imagesFile ?? job.dir,
        object: '-',
        field: 'resources',
        message: 'renders no workload',
        fix: 'include ../../base (or the services) in resources:',
      });
    }
    report.sources.push({ name: job.name, dir: job.dir, objects: rendered.length, findings: findings.length });
    report.findings.push(...findings);
  }
  report.ok = report.findings.length === 0;
  return report;
}

export function formatReport(report: ValidateReport): string {
  const lines: string[] = [];
  for (const s of report.sources) {
    lines.push(
      `${s.findings === 0 ? '✓' : '✗'} ${s.name} (${s.dir}): ${s.objects} objects, ${s.findings} violation${s.findings === 1 ? '' : 's'}`,
    );
  }
  for (const f of report.findings) {
    lines.push('');
    lines.push(`✗ ${f.file} — ${f.object} [${f.source}]`);
    lines.push(`    field:  ${f.field}`);
    lines.push(`    error:  ${f.message}`);
    lines.push(`    fix:    ${f.fix}`);
    lines.push(`    policy: ${f.policy}`);
  }
  lines.push('');
  lines.push(
    report.ok ? 'all manifests valid' : `${report.findings.length} violation${report.findings.length === 1 ? '' : 's'}`,
  );
  return lines.join('\n');
}
