import { isAlias, isMap, isNode, isScalar, isSeq, visit, type Scalar, type YAMLMap } from 'yaml';
import { DeliveryInputError } from '../shared/errors';
import { hasNonUtf8Bytes } from './file-bytes';
import { formatImageReference, parseImageReference, type ImageReference } from '../image/reference';
import {
  applyTextEdits,
  assertNoAnchors,
  insertPairEdit,
  lineOf,
  mapScalar,
  parseYamlForEdit,
  replaceScalarEdit,
  scalarString,
  type ExpectedChange,
  type ParsedYaml,
  type TextEdit,
} from './yaml-edit';

/**
 * Where an environment keeps its image references. `kustomize`: the `images:` list of a
 * kustomization (name / newName / newTag / digest). `helm`: a map in a values file at a dotted path
 * (repository / tag / digest keys). `marker`: any scalar in a plain manifest whose line comment is
 * `# slipway:image <project>` holds the full reference.
 */
export type ImageTarget =
  | { kind: 'kustomize'; file: string }
  | {
      kind: 'helm';
      file: string;
      project: string;
      path: string;
      keys?: { repository?: string; tag?: string; digest?: string };
    }
  | { kind: 'marker'; file: string };

/** The reference a project should run. */
export interface ImageChange {
  project: string;
  reference: ImageReference;
  /** Where the value came from (an image record path, `--set`), for messages. */
  source?: string;
}

export interface ImageOccurrence {
  project: string;
  file: string;
  /** e.g. `images[0] (slipway/catalog)` or `catalog.image`, with its line. */
  location: string;
  previous: ImageReference;
  next: ImageReference;
  changed: boolean;
}

export interface FilePlan {
  file: string;
  before: string;
  after: string;
  occurrences: ImageOccurrence[];
}

export const MARKER_PATTERN = /(?:^|\s)slipway:image\s+([a-z0-9][a-z0-9._-]*)(?=\s|$)/;

interface PlanParts {
  edits: TextEdit[];
  expected: ExpectedChange[];
  occurrences: ImageOccurrence[];
  /** Keys added to each map so far (the second key added to an empty flow map needs a comma). */
  inserted: Map<YAMLMap, number>;
}

/** Which `images:` entry is a project's: its `name` is the project or ends in `/<project>`. */
export function kustomizeEntryMatches(name: string, project: string): boolean {
  return name === project || name.endsWith(`/${project}`);
}

/** Set a string at `key` of `map`: edit the scalar in place, or insert the key if it is missing. */
function setMapString(
  parsed: ParsedYaml,
  map: YAMLMap,
  key: string,
  value: string,
  what: string,
  docIndex: number,
  path: (string | number)[],
  parts: PlanParts,
): void {
  const node = map.get(key, true) as unknown;
  if (node !== undefined && !isScalar(node)) {
    throw new DeliveryInputError(`${parsed.file}: ${what}.${key} is not a scalar`, `make ${key} a plain string value`);
  }
  const scalar = node as Scalar | undefined;
  if (scalar && scalarString(scalar) === value && typeof scalar.value === 'string') return;
  parts.edits.push(
    scalar
      ? replaceScalarEdit(parsed, scalar, value, `${what}.${key}`, map)
      : insertPairEdit(parsed, map, key, value, what, parts.inserted.get(map) ?? 0),
  );
  parts.expected.push({ doc: docIndex, path: [...path, key], value });
  if (!scalar) parts.inserted.set(map, (parts.inserted.get(map) ?? 0) + 1);
}

/**
 * The values the bump reads (they become the previous reference in the commit's trailers) must be
 * text: bytes that are not UTF-8 are kept as they are in comments and other values, but refused here.
 */
function assertUtf8Values(parsed: ParsedYaml, map: YAMLMap, keys: string[], what: string): void {
  for (const key of keys) {
    const node = mapScalar(map, key);
    if (node && typeof node.value === 'string' && hasNonUtf8Bytes(node.value)) {
      throw new DeliveryInputError(
        `${parsed.file}:${lineOf(parsed, node.range?.[0] ?? 0)}: ${what}.${key} holds bytes that are not UTF-8 (the bump reads this value into the commit's trailers)`,
        `correct the value, or re-encode ${parsed.file} as UTF-8 (e.g. iconv -f latin1 -t utf-8)`,
      );
    }
  }
}

function planKustomize(parsed: ParsedYaml, changes: ImageChange[], parts: PlanParts): Set<string> {
  const handled = new Set<string>();
  const doc = parsed.docs[0];
  if (!doc || !isMap(doc.contents)) {
    throw new DeliveryInputError(
      `${parsed.file} is not a kustomization (no top-level map)`,
      'point the target at a kustomization.yaml',
    );
  }
  const images = doc.contents.get('images', true) as unknown;
  if (images === undefined || images === null) return handled;
  assertNoAnchors(parsed, images as never, 'the images: list');
  if (!isSeq(images)) {
    throw new DeliveryInputError(
      `${parsed.file}: images: is not a list`,
      'write images: as a list of {name, newName, newTag, digest}',
    );
  }
  const entries = images.items.map((item, index) => {
    if (!isMap(item)) {
      throw new DeliveryInputError(
        `${parsed.file}: images[${index}] is not a map`,
        'each images: entry is a map with name:',
      );
    }
    const name = scalarString(mapScalar(item, 'name'));
    if (!name)
      throw new DeliveryInputError(`${parsed.file}: images[${index}] has no name:`, 'give every images: entry a name');
    return { item, index, name };
  });
  for (const change of changes) {
    const matching = entries.filter((e) => kustomizeEntryMatches(e.name, change.project));
    if (matching.length === 0) continue;
    if (matching.length > 1) {
      throw new DeliveryInputError(
        `${parsed.file}: project '${change.project}' matches several images: entries (${matching.map((m) => m.name).join(', ')})`,
        'keep one images: entry per image name',
      );
    }
    const { item, index, name } = matching[0];
    const what = `images[${index}] (${name})`;
    assertUtf8Values(parsed, item, ['name', 'newName', 'newTag', 'digest'], what);
    const previous: ImageReference = {
      repository: scalarString(mapScalar(item, 'newName')) ?? name,
      ...(mapScalar(item, 'newTag') ? { tag: scalarString(mapScalar(item, 'newTag')) } : {}),
      ...(mapScalar(item, 'digest') ? { digest: scalarString(mapScalar(item, 'digest')) } : {}),
    };
    const next = change.reference;
    const before = parts.edits.length;
    const path = ['images', index];
    if (mapScalar(item, 'newName') !== undefined || next.repository !== name) {
      setMapString(parsed, item, 'newName', next.repository, what, 0, path, parts);
    }
    if (next.tag !== undefined) setMapString(parsed, item, 'newTag', next.tag, what, 0, path, parts);
    if (next.digest !== undefined) setMapString(parsed, item, 'digest', next.digest, what, 0, path, parts);
    parts.occurrences.push({
      project: change.project,
      file: parsed.file,
      location: `${what} at line ${lineOf(parsed, item.range?.[0] ?? 0)}`,
      previous,
      next,
      changed: parts.edits.length > before,
    });
    handled.add(change.project);
  }
  return handled;
}

function planHelm(
  parsed: ParsedYaml,
  target: Extract<ImageTarget, { kind: 'helm' }>,
  changes: ImageChange[],
  parts: PlanParts,
): Set<string> {
  const handled = new Set<string>();
  const change = changes.find((c) => c.project === target.project);
  if (!change) return handled;
  const keys = { repository: 'repository', tag: 'tag', digest: 'digest', ...(target.keys ?? {}) };
  const path = target.path.split('.').filter(Boolean);
  const doc = parsed.docs[0];
  const node = doc?.getIn(path, true) as unknown;
  if (isAlias(node)) assertNoAnchors(parsed, node, `the Helm values at '${target.path}'`);
  if (!isMap(node)) {
    const at = isNode(node) && node.range ? `:${lineOf(parsed, node.range[0])}` : '';
    throw new DeliveryInputError(
      `${parsed.file}${at}: the Helm values path '${target.path}' for project '${target.project}' is ${node === undefined ? 'missing' : 'not a map'}`,
      `add ${target.path}: {${keys.repository}: …, ${keys.tag}: …, ${keys.digest}: …} to the values file, or fix the path`,
    );
  }
  assertNoAnchors(parsed, node as never, `the Helm values at '${target.path}'`);
  assertUtf8Values(parsed, node, [keys.repository, keys.tag, keys.digest], target.path);
  const previous: ImageReference = {
    repository: scalarString(mapScalar(node, keys.repository)) ?? '',
    ...(mapScalar(node, keys.tag) ? { tag: scalarString(mapScalar(node, keys.tag)) } : {}),
    ...(mapScalar(node, keys.digest) ? { digest: scalarString(mapScalar(node, keys.digest)) } : {}),
  };
  const before = parts.edits.length;
  const next = change.reference;
  setMapString(parsed, node, keys.repository, next.repository, target.path, 0, path, parts);
  if (next.tag !== undefined) setMapString(parsed, node, keys.tag, next.tag, target.path, 0, path, parts);
  if (next.digest !== undefined) setMapString(parsed, node, keys.digest, next.digest, target.path, 0, path, parts);
  parts.occurrences.push({
    project: change.project,
    file: parsed.file,
    location: `${target.path} at line ${lineOf(parsed, node.range?.[0] ?? 0)}`,
    previous,
    next,
    changed: parts.edits.length > before,
  });
  handled.add(change.project);
  return handled;
}

function planMarkers(parsed: ParsedYaml, changes: ImageChange[], parts: PlanParts): Set<string> {
  const handled = new Set<string>();
  const byProject = new Map(changes.map((c) => [c.project, c]));
  parsed.docs.forEach((doc, docIndex) => {
    visit(doc, {
      Scalar: (_key, node) => {
        const match = node.comment ? MARKER_PATTERN.exec(node.comment) : null;
        if (!match) return;
        const change = byProject.get(match[1]);
        if (!change) return;
        const line = lineOf(parsed, node.range?.[0] ?? 0);
        if (node.anchor) assertNoAnchors(parsed, node, `the marked image at line ${line}`);
        const current = scalarString(node) ?? '';
        const previous = parseImageReference(current, `${parsed.file}:${line}: marked image`);
        const next = formatImageReference(change.reference);
        const before = parts.edits.length;
        if (current !== next) {
          parts.edits.push(replaceScalarEdit(parsed, node, next, `the marked image at line ${line}`));
          parts.expected.push({ doc: docIndex, path: pathOf(doc, node), value: next });
        }
        parts.occurrences.push({
          project: change.project,
          file: parsed.file,
          location: `marker at line ${line}`,
          previous,
          next: change.reference,
          changed: parts.edits.length > before,
        });
        handled.add(change.project);
      },
    });
  });
  return handled;
}

/** The data path (keys and indexes) of a node inside a document, for verification. */
function pathOf(doc: { contents: unknown }, target: unknown): (string | number)[] {
  const walk = (node: unknown, path: (string | number)[]): (string | number)[] | undefined => {
    if (node === target) return path;
    if (isMap(node)) {
      for (const pair of node.items) {
        const found = walk(pair.value, [...path, String(scalarString(pair.key))]);
        if (found) return found;
      }
    } else if (isSeq(node)) {
      for (let i = 0; i < node.items.length; i++) {
        const found = walk(node.items[i], [...path, i]);
        if (found) return found;
      }
    }
    return undefined;
  };
  const found = walk(doc.contents, []);
  if (!found) throw new Error('marked scalar not found in its document');
  return found;
}

/**
 * Plan the edits of one file for the given changes. Pure: returns the new content (byte-identical
 * outside the changed scalars) and every occurrence found, changed or not.
 */
export function planImageTarget(
  target: ImageTarget,
  source: string,
  changes: ImageChange[],
): { plan: FilePlan; handled: Set<string> } {
  const parsed = parseYamlForEdit(source, target.file);
  const parts: PlanParts = { edits: [], expected: [], occurrences: [], inserted: new Map() };
  const handled =
    target.kind === 'kustomize'
      ? planKustomize(parsed, changes, parts)
      : target.kind === 'helm'
        ? planHelm(parsed, target, changes, parts)
        : planMarkers(parsed, changes, parts);
  const after = parts.edits.length > 0 ? applyTextEdits(parsed, parts.edits, parts.expected) : source;
  return { plan: { file: target.file, before: source, after, occurrences: parts.occurrences }, handled };
}

/** Every project a target currently pins, with its reference (for listing and rollback). */
export function readImageTarget(target: ImageTarget, source: string): { project: string; reference: ImageReference }[] {
  const parsed = parseYamlForEdit(source, target.file);
  if (target.kind === 'kustomize') {
    const doc = parsed.docs[0];
    const images = isMap(doc?.contents) ? (doc.contents.get('images', true) as unknown) : undefined;
    if (!isSeq(images)) return [];
    return images.items.filter(isMap).map((item) => {
      const name = scalarString(mapScalar(item, 'name')) ?? '';
      return {
        project: name.split('/').pop() ?? name,
        reference: {
          repository: scalarString(mapScalar(item, 'newName')) ?? name,
          ...(mapScalar(item, 'newTag') ? { tag: scalarString(mapScalar(item, 'newTag')) } : {}),
          ...(mapScalar(item, 'digest') ? { digest: scalarString(mapScalar(item, 'digest')) } : {}),
        },
      };
    });
  }
  const out: { project: string; reference: ImageReference }[] = [];
  if (target.kind === 'marker') {
    parsed.docs.forEach((doc) =>
      visit(doc, {
        Scalar: (_k, node) => {
          const m = node.comment ? MARKER_PATTERN.exec(node.comment) : null;
          if (m)
            out.push({
              project: m[1],
              reference: parseImageReference(scalarString(node) ?? '', `${target.file}: marked image`),
            });
        },
      }),
    );
    return out;
  }
  const node = parsed.docs[0]?.getIn(target.path.split('.'), true) as unknown;
  if (!isMap(node)) return [];
  const keys = { repository: 'repository', tag: 'tag', digest: 'digest', ...(target.keys ?? {}) };
  return [
    {
      project: target.project,
      reference: {
        repository: scalarString(mapScalar(node, keys.repository)) ?? '',
        ...(mapScalar(node, keys.tag) ? { tag: scalarString(mapScalar(node, keys.tag)) } : {}),
        ...(mapScalar(node, keys.digest) ? { digest: scalarString(mapScalar(node, keys.digest)) } : {}),
      },
    },
  ];
}
