import { Document, isMap, isSeq, parseAllDocuments, parseDocument, YAMLMap, YAMLSeq } from 'yaml';
import { DeliveryInputError } from '../shared/errors';

/*
 * The edits the service generators make to files every service shares: pure text → text functions,
 * so the generators stay thin and each edit is tested on its own. YAML goes through the `yaml`
 * Document API, which keeps comments and order; the generator formats the results afterwards.
 */

const YAML_OPTIONS = { lineWidth: 0 } as const;

function seqOf(doc: Document, key: string, file: string): YAMLSeq | undefined {
  if (!isMap(doc.contents)) throw new DeliveryInputError(`${file} is not a YAML mapping`, 'restore it from git');
  const node = doc.get(key, true);
  if (node === undefined) return undefined;
  if (!isSeq(node)) throw new DeliveryInputError(`${file}: "${key}" is not a list`, 'restore it from git');
  return node;
}

function namedItems(seq: YAMLSeq | undefined): YAMLMap[] {
  return (seq?.items ?? []).filter((item): item is YAMLMap => isMap(item));
}

/** `resources:` of deploy/k8s/base/kustomization.yaml gains `- <name>`. */
export function addBaseResource(text: string, name: string, file: string): string {
  const doc = parseDocument(text);
  const resources = seqOf(doc, 'resources', file);
  if (!resources) throw new DeliveryInputError(`${file} has no resources: list`, 'restore it from git');
  if (resources.items.some((item) => String((item as { value?: unknown }).value ?? item) === name)) return text;
  resources.add(doc.createNode(name));
  return doc.toString(YAML_OPTIONS);
}

export function removeBaseResource(text: string, name: string, file: string): string {
  const doc = parseDocument(text);
  const resources = seqOf(doc, 'resources', file);
  if (!resources) return text;
  const before = resources.items.length;
  resources.items = resources.items.filter((item) => String((item as { value?: unknown }).value ?? item) !== name);
  return resources.items.length === before ? text : doc.toString(YAML_OPTIONS);
}

/**
 * An overlay's kustomization.yaml gains the service's `replicas:` entry (the count the overlay gives
 * its first service) and its `images:` entry: the registry path of the overlay's first image with
 * the service's name as the last segment, and the placeholder tag and digest the first release
 * replaces. An overlay with no images: list is left alone (it pins nothing).
 */
export function addOverlayEntries(text: string, name: string, imageName: string, file: string): string {
  const doc = parseDocument(text);
  const images = seqOf(doc, 'images', file);
  const firstImage = namedItems(images)[0];
  if (!images || !firstImage) return text;
  if (namedItems(images).some((item) => item.get('name') === imageName)) return text;
  const replicas = seqOf(doc, 'replicas', file);
  const firstReplicas = namedItems(replicas)[0];
  if (replicas && firstReplicas) replicas.add(doc.createNode({ name, count: firstReplicas.get('count') }));
  const newName = String(firstImage.get('newName') ?? '');
  const entry: Record<string, unknown> = { name: imageName };
  if (newName) entry['newName'] = newName.replace(/[^/]+$/, name);
  entry['newTag'] = 'h-000000000000';
  entry['digest'] = `sha256:${'0'.repeat(64)}`;
  images.add(doc.createNode(entry));
  return doc.toString(YAML_OPTIONS);
}

export function removeOverlayEntries(text: string, name: string, imageName: string, file: string): string {
  const doc = parseDocument(text);
  let changed = false;
  for (const [key, match] of [
    ['replicas', name],
    ['images', imageName],
  ] as const) {
    const seq = seqOf(doc, key, file);
    if (!seq) continue;
    const kept = seq.items.filter((item) => !(isMap(item) && item.get('name') === match));
    if (kept.length !== seq.items.length) {
      seq.items = kept;
      changed = true;
    }
  }
  return changed ? doc.toString(YAML_OPTIONS) : text;
}

/**
 * An overlay's ConfigMap patch file (one document per service, `<svc>-config`) gains one for the
 * service with the settings every service there shares (those of the first document that are not
 * another service's URL).
 */
export function addConfigPatch(text: string, name: string): string {
  const docs = parseAllDocuments(text);
  const configs = docs.filter((doc) => doc.get('kind') === 'ConfigMap');
  if (configs.length === 0) return text;
  if (configs.some((doc) => doc.getIn(['metadata', 'name']) === `${name}-config`)) return text;
  const data = configs[0].get('data', true);
  const shared: Record<string, unknown> = {};
  if (isMap(data)) {
    for (const pair of data.items) {
      const key = String((pair.key as { value?: unknown })?.value ?? pair.key);
      if (!key.endsWith('_URL')) shared[key] = (pair.value as { value?: unknown })?.value ?? pair.value;
    }
  }
  const addition = new Document({
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: `${name}-config` },
    data: shared,
  });
  const separator = text.endsWith('\n') ? '' : '\n';
  return `${text}${separator}---\n${addition.toString(YAML_OPTIONS)}`;
}

export function removeConfigPatch(text: string, name: string): string {
  // Split on the document markers, keeping them, and drop the one document with its own marker:
  // the rest of the file stays byte for byte as it was.
  const parts = text.split(/(^---[ \t]*\r?\n)/m);
  for (let i = 0; i < parts.length; i += 2) {
    const doc = parseDocument(parts[i]);
    if (doc.getIn(['metadata', 'name']) !== `${name}-config`) continue;
    if (i > 0) parts.splice(i - 1, 2);
    else parts.splice(0, Math.min(2, parts.length));
    return parts.join('');
  }
  return text;
}

const SCOPE_RULE = (name: string) =>
  `{ sourceTag: 'scope:${name}', onlyDependOnLibsWithTags: ['scope:${name}', 'scope:shared'] },`;

/** eslint.config.mjs: the service's module-boundary rule goes before the `scope:shared` one. */
export function addLintScope(text: string, name: string): string {
  if (text.includes(`sourceTag: 'scope:${name}'`)) return text;
  const lines = text.split('\n');
  const at = lines.findIndex((line) => line.includes("sourceTag: 'scope:shared'"));
  if (at < 0) {
    throw new DeliveryInputError(
      "eslint.config.mjs has no depConstraints entry for sourceTag 'scope:shared'",
      `add ${SCOPE_RULE(name)} to the @nx/enforce-module-boundaries depConstraints yourself`,
    );
  }
  const indent = lines[at].match(/^\s*/)?.[0] ?? '';
  lines.splice(at, 0, indent + SCOPE_RULE(name));
  return lines.join('\n');
}

export function removeLintScope(text: string, name: string): string {
  return text
    .split('\n')
    .filter((line) => !line.includes(`sourceTag: 'scope:${name}'`))
    .join('\n');
}

/** README.md's project table gains a row after the last `type:app` row. */
export function addReadmeRow(text: string, row: { name: string; directory: string; description: string }): string {
  const lines = text.split('\n');
  if (lines.some((line) => line.startsWith(`| \`${row.name}\``))) return text;
  let at = -1;
  lines.forEach((line, i) => {
    if (line.startsWith('| `') && line.includes('`type:app`')) at = i;
  });
  if (at < 0) return text;
  const cells = [`\`${row.name}\``, `\`${row.directory}\``, `\`scope:${row.name}\`, \`type:app\``, row.description];
  lines.splice(at + 1, 0, `| ${cells.join(' | ')} |`);
  return lines.join('\n');
}

export function removeReadmeRow(text: string, name: string): string {
  return text
    .split('\n')
    .filter((line) => !line.startsWith(`| \`${name}\` `))
    .join('\n');
}
