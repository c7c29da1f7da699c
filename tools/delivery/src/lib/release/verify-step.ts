import type { ImageVerification } from '../supply-chain/verify-images';
import type { StageTimer } from './timings';

/**
 * The release's verify stage: the images about to be written into manifests or applied, checked
 * against the environment's trust policy (lib/supply-chain/verify-images.ts). Throws the refusal;
 * returns the projects that passed. Without a verifier (no trust policy) nothing is verified.
 */
export type ImageGate = (targets: Record<string, string>) => Promise<ImageVerification[]>;

export async function verifyStep(
  gate: ImageGate | undefined,
  timer: StageTimer,
  targets: Record<string, string>,
  stage = 'verify',
): Promise<Set<string>> {
  if (!gate || Object.keys(targets).length === 0) return new Set();
  const results = await timer.time(stage, () => gate(targets));
  return new Set(results.filter((r) => r.ok).map((r) => r.project));
}
