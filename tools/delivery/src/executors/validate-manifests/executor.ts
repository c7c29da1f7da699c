import type { ExecutorContext } from '@nx/devkit';
import { formatReport, validateManifests, type ValidateReport } from '../../lib/policy/validate';
import type { ValidateManifestsExecutorSchema } from './schema';

export default async function runValidateManifestsExecutor(
  options: ValidateManifestsExecutorSchema,
  context: ExecutorContext,
): Promise<{ success: boolean; report?: ValidateReport }> {
  try {
    const report = await validateManifests({
      workspaceRoot: context.root,
      overlaysDir: options.overlaysDir,
      overlays: options.overlays,
      extraKustomizations: options.extraKustomizations,
      kubectl: options.kubectl,
      exemptions: options.exemptions,
    });
    if (options.format === 'json') console.log(JSON.stringify(report, null, 2));
    else {
      for (const e of options.exemptions ?? []) console.log(`exempt: ${e.overlay} from ${e.policy} (${e.reason})`);
      const text = formatReport(report);
      if (report.ok) console.log(text);
      else console.error(text);
    }
    return { success: report.ok, report };
  } catch (error) {
    console.error(`validate failed: ${error instanceof Error ? error.message : String(error)}`);
    return { success: false };
  }
}
