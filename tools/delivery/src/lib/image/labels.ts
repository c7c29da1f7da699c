/** The eight org.opencontainers.image.* labels metadata-action always sets, plus custom labels. */
export interface LabelFacts {
  title: string;
  description: string;
  url: string;
  source: string;
  version: string;
  created: string;
  revision: string;
  licenses: string;
}

export const OCI_LABEL_KEYS = [
  'title',
  'description',
  'url',
  'source',
  'version',
  'created',
  'revision',
  'licenses',
] as const;

export function buildLabels(facts: LabelFacts, custom: Record<string, string> = {}): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const key of OCI_LABEL_KEYS) labels[`org.opencontainers.image.${key}`] = facts[key];
  for (const [key, value] of Object.entries(custom)) {
    if (!/^[a-zA-Z0-9][a-zA-Z0-9._/-]*$/.test(key)) {
      throw new Error(
        `Invalid label key "${key}": use letters, digits, ".", "_", "-" and "/" (e.g. "com.example.team").`,
      );
    }
    // Custom labels win, as metadata-action lets users overwrite generated ones.
    labels[key] = value;
  }
  return labels;
}
