import type { EnvironmentOptions } from '../../lib/release/environment';

/** Mirrors schema.json (the source of truth for the options). */
export interface DeployExecutorSchema extends Omit<EnvironmentOptions, 'env' | 'environment'> {
  environment: string;
  releaseHold?: boolean;
  promoteFrom?: string;
  soak?: string;
  force?: boolean;
  reason?: string;
  digests?: string;
  down?: boolean;
  dryRun?: boolean;
}
