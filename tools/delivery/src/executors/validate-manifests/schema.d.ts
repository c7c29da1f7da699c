// Mirrors schema.json (the source of truth for options).
export interface ValidateManifestsExecutorSchema {
  overlaysDir?: string;
  overlays?: string[];
  extraKustomizations?: string[];
  kubectl?: string;
  exemptions?: { overlay: string; policy: string; reason: string }[];
  format?: 'text' | 'json';
}
