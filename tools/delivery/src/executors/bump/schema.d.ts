// Mirrors schema.json (the source of truth for options).
export interface BumpTargetOption {
  kind: 'kustomize' | 'helm' | 'marker';
  file: string;
  project?: string;
  path?: string;
  keys?: { repository?: string; tag?: string; digest?: string };
}

export interface BumpExecutorSchema {
  environment: string;
  records?: string;
  projects?: string[];
  set?: string[];
  tagPreference?: 'content' | 'sha';
  targets?: BumpTargetOption[];
  overlaysDir?: string;
  holdsDir?: string;
  releaseHold?: boolean;
  dryRun?: boolean;
  commit?: boolean;
  push?: boolean;
  remote?: string;
  branch?: string;
  tokenEnv?: string;
  tokenUser?: string;
  maxPushAttempts?: number;
  retryBaseMs?: number;
}
