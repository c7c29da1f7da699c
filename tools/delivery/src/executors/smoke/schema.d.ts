/** Mirrors schema.json (the source of truth). */
export interface SmokeExecutorSchema {
  environment?: string;
  baseUrl?: string;
  expectVersion?: string | number;
  expectRevision?: string;
  expectFrom?: 'auto' | 'image' | 'record' | 'none';
  expectRecord?: string;
  config?: string;
  dryRun?: boolean;
  readinessTimeoutMs?: number;
  expectTimeoutMs?: number;
  skipK6?: boolean;
  skipPlaywright?: boolean;
  reportDir?: string;
  stepSummary?: string;
}
