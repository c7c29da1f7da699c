import type { EnvironmentOptions } from '../../lib/release/environment';

/** Mirrors schema.json (the source of truth for the options). */
export interface RollbackExecutorSchema extends EnvironmentOptions {
  env?: string;
  environment?: string;
  to: string;
  reason?: string;
}
