import type { ExecutorContext } from '@nx/devkit';
import { formatReport, validateManifests, type ValidateReport } from '../../lib/policy/validate';
import { consoleOutput, failureLine, type Output } from '../../lib/shared/output';
import type { ValidateManifestsExecutorSchema } from './schema';

/** `nx run deploy:validate`: options → render every overlay and check the policies (lib/policy) → print. */
export type ValidateManifestsExecutorDeps = Output;

export async function runValidateManifestsExecutor(
  options: ValidateManifestsExecutorSchema,
  context: ExecutorContext,
  deps: ValidateManifestsExecutorDeps = consoleOutput,
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
    if (options.format === 'json') deps.log(JSON.stringify(report, null, 2));
    else {
      for (const e of options.exemptions ?? []) deps.log(`exempt: ${e.overlay} from ${e.policy} (${e.reason})`);
      const text = formatReport(report);
      if (report.ok) deps.log(text);
      else deps.error(text);
    }
    return { success: report.ok, report };
  } catch (error) {
    deps.error(failureLine('validate', error));
    return { success: false };
  }
}

export default runValidateManifestsExecutor;
