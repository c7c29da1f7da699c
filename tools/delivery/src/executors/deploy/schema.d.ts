import type { EnvironmentOptions } from '../../lib/release/environment';

/** Mirrors schema.json (the source of truth for the options). */
export interface DeployExecutorSchema extends Omit<EnvironmentOptions, 'env' | 'environment'> {
  environment: string;
  releaseHold?: boolean;
  down?: boolean;
  dryRun?: boolean;
}
