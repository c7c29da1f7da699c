import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import fc from 'fast-check';
import { parseAllDocuments } from 'yaml';
import { lineBreakStyle } from './edit-contract';
import { encodeFileText, hasNonUtf8Bytes } from './file-bytes';
import { formatImageReference } from '../image/reference';
import { planImageTarget, type ImageChange, type ImageTarget } from './image-targets';
import { kustomizeBuild, parseObjects } from './kubernetes';

/**
 * The bump's property test, shared by the unit spec (fixed seed, small budget) and
 * tools/bench/bump-bench.mjs (large budget). Generates kustomizations and Helm values files with
 * random comments (some holding bytes that are not UTF-8), quoting, indentation, flow/block style,
 * empty / null placeholders, a block scalar as the last key, CRLF or LF, a BOM or not, a final
 * newline or not; bumps random images to random valid tags (YAML 1.1 words and numbers included);
 * and checks, independently of the writer's own contract check, that every line the bump did not
 * mean to touch is byte-identical, comments and encoding survive, and that YAML 1.2 and 1.1
 * readers (and `kubectl kustomize`, on a sample) see exactly the new repository, tag and digest.
 */
const PROJECTS = ['catalog', 'orders', 'web', 'jobs'] as const;
const IMAGE_KEYS = ['newName', 'newTag', 'digest', 'repository', 'tag'];

/** Tags YAML 1.1 or 1.2 readers would turn into booleans, numbers, nulls or dates if written plain. */
export const AMBIGUOUS_TAGS = [
  'yes',
  'no',
  'on',
  'off',
  'y',
  'n',
  'Y',
  'N',
  'true',
  'false',
  'True',
  'null',
  'Null',
  'NULL',
  'YES',
  'Off',
  '1e3',
  '0x1F',
  '0o17',
  '012',
  '0b101',
  '1_000',
  '1.0',
  '1.10',
  '1.2.3',
  '2001-12-14',
  '1_2',
  '08',
  '0',
  '10',
  '_',
  '1e-3',
  '.5',
];

export interface GeneratedCase {
  kind: 'kustomize' | 'helm';
  /** Lossless text (file-bytes.ts): lone surrogates stand for non-UTF-8 bytes. */
  text: string;
  target: ImageTarget;
  changes: ImageChange[];
  comments: string[];
  bom: boolean;
  crlf: boolean;
  finalNewline: boolean;
}

const hex64 = fc.stringMatching(/^[0-9a-f]{64}$/);
const currentTag = fc.stringMatching(/^h-[0-9a-f]{12}$/);
const newTag = fc.oneof(
  { weight: 2, arbitrary: fc.constantFrom(...AMBIGUOUS_TAGS) },
  { weight: 3, arbitrary: fc.stringMatching(/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,15}$/) },
);
const commentChar = fc.oneof(
  { weight: 40, arbitrary: fc.constantFrom(...'abc XYZ 019 -_.:#@\'"{}[],&*!|>%`~é€日ü'.split('')) },
  // A byte 0x80..0xFF that is not part of UTF-8 (Latin-1 text), as its lossless stand-in.
  { weight: 1, arbitrary: fc.integer({ min: 0x80, max: 0xff }).map((b) => String.fromCharCode(0xdc00 + b)) },
);
const commentText = fc.array(commentChar, { minLength: 1, maxLength: 12 }).map((cs) => `# ${cs.join('')}`);
const maybeComment = fc.option(commentText, { nil: undefined, freq: 3 });
type Quote = 'plain' | 'single' | 'double';
const quote = fc.constantFrom<Quote>('plain', 'single', 'double');
const placeholder = fc.constantFrom('', '~', 'null', '""', "''");

function quoted(value: string, q: Quote): string {
  return q === 'single' ? `'${value}'` : q === 'double' ? `"${value}"` : value;
}

interface FieldSpec {
  key: string;
  /** Raw value source; '' is an empty placeholder. */
  raw: string;
  comment?: string;
}

const field = (key: string, value: fc.Arbitrary<string>) =>
  fc
    .record({
      kind: fc.constantFrom('value', 'value', 'value', 'placeholder', 'absent'),
      value,
      q: quote,
      ph: placeholder,
      comment: maybeComment,
    })
    .map(({ kind, value: v, q, ph, comment }): FieldSpec | undefined =>
      kind === 'absent' ? undefined : { key, raw: kind === 'value' ? quoted(v, q) : ph, comment },
    );

const lineOf = (indent: string, f: FieldSpec) =>
  `${indent}${f.key}:${f.raw === '' ? '' : ` ${f.raw}`}${f.comment ? `${f.raw === '' ? ' ' : '  '}${f.comment}` : ''}`;

const layout = fc.record({
  crlf: fc.boolean(),
  bom: fc.boolean(),
  finalNewline: fc.boolean(),
  header: maybeComment,
});

function finish(lines: string[], l: { crlf: boolean; bom: boolean; finalNewline: boolean }): string {
  const nl = l.crlf ? '\r\n' : '\n';
  return `${l.bom ? '\uFEFF' : ''}${lines.join(nl)}${l.finalNewline ? nl : ''}`;
}

const change = (projects: readonly string[]) =>
  fc.tuple(...projects.map((p) => fc.tuple(fc.constant(p), newTag, hex64, fc.boolean()))).map((list) =>
    list.map(
      ([project, tag, digest, sameRepo]): ImageChange => ({
        project,
        reference: {
          repository: sameRepo ? `127.0.0.1:5000/slipway/${project}` : `ghcr.io/acme/${project}`,
          tag,
          digest: `sha256:${digest}`,
        },
      }),
    ),
  );

const kustomizeEntry = (project: string) =>
  fc.record({
    useFlow: fc.integer({ min: 0, max: 4 }).map((n) => n === 0),
    fields: fc.tuple(
      field('newName', fc.constant(`127.0.0.1:5000/slipway/${project}`)),
      field('newTag', currentTag),
      field(
        'digest',
        hex64.map((h) => `sha256:${h}`),
      ),
    ),
    order: fc.integer({ min: 0, max: 5 }),
    nameComment: maybeComment,
    above: maybeComment,
  });

export const kustomizationCase: fc.Arbitrary<GeneratedCase> = fc
  .record({
    projects: fc.uniqueArray(fc.constantFrom(...PROJECTS), { minLength: 1, maxLength: 4 }),
    seqIndent: fc.constantFrom('', '  ', '    '),
    dashGap: fc.constantFrom(' ', '  ', '   '),
    flowResources: fc.boolean(),
    trailer: fc.constantFrom('', 'namePrefix: bench-', 'replicas: []', 'commonLabels:\n  team: delivery'),
    l: layout,
  })
  .chain((shape) =>
    fc.record({
      shape: fc.constant(shape),
      entries: fc.tuple(...shape.projects.map(kustomizeEntry)),
      bumped: fc.subarray([...shape.projects], { minLength: 1 }),
    }),
  )
  .chain(({ shape, entries, bumped }) =>
    change(bumped).map((changes) => {
      const comments: string[] = [];
      const note = (c: string | undefined) => {
        if (c) comments.push(c);
        return c;
      };
      const lines: string[] = [];
      if (note(shape.l.header)) lines.push(shape.l.header as string);
      lines.push('apiVersion: kustomize.config.k8s.io/v1beta1', 'kind: Kustomization');
      lines.push(shape.flowResources ? 'resources: [ deployment.yaml ]' : 'resources:\n  - deployment.yaml');
      lines.push('images:');
      shape.projects.forEach((project, i) => {
        const e = entries[i];
        const present = e.fields.filter((f): f is FieldSpec => f !== undefined);
        const ordered = [
          ...present.slice(e.order % (present.length + 1)),
          ...present.slice(0, e.order % (present.length + 1)),
        ];
        if (e.useFlow) {
          // Flow entries hold values only (an empty value reads as null there too, but keep them simple).
          const parts = [
            `name: slipway/${project}`,
            ...ordered.filter((f) => f.raw !== '').map((f) => `${f.key}: ${f.raw}`),
          ];
          lines.push(
            `${shape.seqIndent}-${shape.dashGap}{${parts.join(', ')}}${note(e.nameComment) ? `  ${e.nameComment}` : ''}`,
          );
          return;
        }
        if (note(e.above)) lines.push(`${shape.seqIndent}${e.above}`);
        const indent = `${shape.seqIndent} ${shape.dashGap}`;
        lines.push(
          `${shape.seqIndent}-${shape.dashGap}name: slipway/${project}${note(e.nameComment) ? `  ${e.nameComment}` : ''}`,
        );
        for (const f of ordered) {
          note(f.comment);
          lines.push(lineOf(indent, f));
        }
      });
      if (shape.trailer) lines.push(shape.trailer);
      const text = finish(lines.join('\n').split('\n'), shape.l);
      return {
        kind: 'kustomize' as const,
        text,
        target: { kind: 'kustomize' as const, file: 'kustomization.yaml' },
        changes,
        comments,
        bom: shape.l.bom,
        crlf: shape.l.crlf,
        finalNewline: shape.l.finalNewline,
      };
    }),
  );

export const helmValuesCase: fc.Arbitrary<GeneratedCase> = fc
  .record({
    projects: fc.uniqueArray(fc.constantFrom(...PROJECTS), { minLength: 1, maxLength: 3 }),
    indent: fc.constantFrom('  ', '    '),
    l: layout,
  })
  .chain((shape) =>
    fc.record({
      shape: fc.constant(shape),
      maps: fc.tuple(
        ...shape.projects.map((p) =>
          fc.record({
            fields: fc.tuple(
              field('repository', fc.constant(`127.0.0.1:5000/slipway/${p}`)),
              field('tag', currentTag),
              field(
                'digest',
                hex64.map((h) => `sha256:${h}`),
              ),
            ),
            flow: fc.integer({ min: 0, max: 4 }).map((n) => n === 0),
            blockLast: fc.integer({ min: 0, max: 3 }).map((n) => n === 0),
            above: maybeComment,
          }),
        ),
      ),
      target: fc.constantFrom(...shape.projects),
    }),
  )
  .chain(({ shape, maps, target }) =>
    change([target]).map((changes) => {
      const comments: string[] = [];
      const lines: string[] = [];
      if (shape.l.header) {
        comments.push(shape.l.header);
        lines.push(shape.l.header);
      }
      const i1 = shape.indent;
      const i2 = i1 + i1;
      shape.projects.forEach((project, i) => {
        const m = maps[i];
        const present = m.fields.filter((f): f is FieldSpec => f !== undefined);
        lines.push(`${project}:`, `${i1}replicas: ${i + 1}`);
        if (m.flow && present.every((f) => f.raw !== '')) {
          lines.push(`${i1}image: {${present.map((f) => `${f.key}: ${f.raw}`).join(', ')}}`);
          return;
        }
        lines.push(`${i1}image:`);
        if (m.above) {
          comments.push(m.above);
          lines.push(`${i2}${m.above}`);
        }
        for (const f of present) {
          if (f.comment) comments.push(f.comment);
          lines.push(lineOf(i2, f));
        }
        lines.push(`${i2}pullPolicy: IfNotPresent`);
        if (m.blockLast)
          lines.push(`${i2}notes: |`, `${i2}${i1}pinned by the release train`, `${i2}${i1}see RUNBOOK.md`);
      });
      return {
        kind: 'helm' as const,
        text: finish(lines, shape.l),
        target: { kind: 'helm' as const, file: 'values.yaml', project: target, path: `${target}.image` },
        changes,
        comments,
        bom: shape.l.bom,
        crlf: shape.l.crlf,
        finalNewline: shape.l.finalNewline,
      };
    }),
  );

export const bumpCase = fc.oneof(kustomizationCase, helmValuesCase);

function fail(c: GeneratedCase, after: string, problem: string): never {
  throw new Error(`${problem}\n--- before ---\n${JSON.stringify(c.text)}\n--- after ---\n${JSON.stringify(after)}`);
}

/** The image fields a change must leave, per target kind. */
function wanted(c: GeneratedCase, ch: ImageChange): Record<string, string> {
  return c.kind === 'kustomize'
    ? { newName: ch.reference.repository, newTag: ch.reference.tag as string, digest: ch.reference.digest as string }
    : { repository: ch.reference.repository, tag: ch.reference.tag as string, digest: ch.reference.digest as string };
}

function imageMaps(c: GeneratedCase, data: unknown): Map<string, Record<string, unknown>> {
  const out = new Map<string, Record<string, unknown>>();
  const d = data as Record<string, unknown>;
  if (c.kind === 'kustomize') {
    for (const e of (d.images as Record<string, unknown>[]) ?? [])
      out.set(String(e.name).split('/').pop() as string, e);
  } else {
    for (const p of PROJECTS) {
      const image = (d[p] as Record<string, unknown> | undefined)?.image as Record<string, unknown> | undefined;
      if (image) out.set(p, image);
    }
  }
  return out;
}

/** Check one bump of a generated file (pure part). Returns the new text. */
export function checkBump(c: GeneratedCase): string {
  const { plan } = planImageTarget(c.target, c.text, c.changes);
  const after = plan.after;
  const beforeBytes = encodeFileText(c.text);
  const afterBytes = encodeFileText(after);
  const BOM = Buffer.from([0xef, 0xbb, 0xbf]);
  if (beforeBytes.subarray(0, 3).equals(BOM) !== afterBytes.subarray(0, 3).equals(BOM)) fail(c, after, 'BOM changed');
  if (/\r?\n$/.test(c.text) !== /\r?\n$/.test(after)) fail(c, after, 'final newline changed');
  if (lineBreakStyle(after) !== lineBreakStyle(c.text)) fail(c, after, 'line endings changed');
  for (const comment of c.comments) {
    const bytes = encodeFileText(comment);
    let n = 0;
    for (let at = afterBytes.indexOf(bytes); at !== -1; at = afterBytes.indexOf(bytes, at + 1)) n++;
    let m = 0;
    for (let at = beforeBytes.indexOf(bytes); at !== -1; at = beforeBytes.indexOf(bytes, at + 1)) m++;
    if (n < m) fail(c, after, `comment ${JSON.stringify(comment)} lost`);
  }
  // Line by line: each original line is unchanged, or is an image-key line (or a flow entry) whose
  // comment is kept; every added line is an image-key line.
  const a = c.text.split(/\r\n|\n/);
  const b = after.split(/\r\n|\n/);
  const keyOf = (line: string) => /^[\s-]*([A-Za-z]+):/.exec(line)?.[1];
  const commentOf = (line: string) => (/\s(#.*)$/.exec(line) ?? [])[1];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    if (i < a.length && a[i] === b[j]) {
      i++;
      j++;
      continue;
    }
    const editable = (line: string | undefined) =>
      line !== undefined && (IMAGE_KEYS.includes(keyOf(line) ?? '') || line.includes('{'));
    if (i < a.length && j < b.length && editable(a[i]) && keyOf(a[i]) === keyOf(b[j])) {
      const comment = commentOf(a[i]);
      if (comment && !b[j].endsWith(comment)) fail(c, after, `line ${i + 1} lost its comment`);
      i++;
      j++;
    } else if (j < b.length && IMAGE_KEYS.includes(keyOf(b[j]) ?? '') && !b[j].includes('#')) {
      j++;
    } else fail(c, after, `line ${i + 1} changed: ${JSON.stringify(a[i])} → ${JSON.stringify(b[j])}`);
  }
  // YAML 1.2 and 1.1 readers: exactly the new strings, and nothing else changed.
  for (const version of ['1.2', '1.1'] as const) {
    const read = (text: string) => {
      const docs = parseAllDocuments(text, { version });
      const list = Array.isArray(docs) ? docs : [docs];
      if (list.some((d) => d.errors.length > 0))
        fail(c, after, `YAML ${version} reader: ${list[0].errors[0]?.message}`);
      return list[0].toJS();
    };
    const before = read(c.text);
    const now = read(after);
    const beforeMaps = imageMaps(c, before);
    const nowMaps = imageMaps(c, now);
    for (const ch of c.changes) {
      const m = nowMaps.get(ch.project);
      for (const [k, v] of Object.entries(wanted(c, ch))) {
        if (m?.[k] !== v) {
          fail(c, after, `YAML ${version} reader sees ${ch.project}.${k} = ${JSON.stringify(m?.[k])}, not '${v}'`);
        }
      }
      // The repositories generated always differ from the entry's name, so newName is always set.
      Object.assign(beforeMaps.get(ch.project) ?? {}, wanted(c, ch));
    }
    if (!isDeepStrictEqual(before, now)) fail(c, after, `YAML ${version} reader sees other changes than the bump`);
  }
  return after;
}

/** `kubectl kustomize` over the bumped kustomization: every bumped container runs exactly the new reference. */
export async function checkWithKustomize(c: GeneratedCase, after: string, kubectl = 'kubectl'): Promise<void> {
  if (c.kind !== 'kustomize' || hasNonUtf8Bytes(c.text)) return; // go-yaml reads UTF-8 only, before and after
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'slipway-bump-prop-'));
  try {
    await fs.writeFile(path.join(dir, 'kustomization.yaml'), encodeFileText(after));
    const containers = PROJECTS.map((p) => `        - {name: ${p}, image: "slipway/${p}:old"}`);
    await fs.writeFile(
      path.join(dir, 'deployment.yaml'),
      [
        'apiVersion: apps/v1',
        'kind: Deployment',
        'metadata: {name: app}',
        'spec:',
        '  template:',
        '    spec:',
        '      containers:',
        ...containers,
        '',
      ].join('\n'),
    );
    let rendered: string;
    try {
      rendered = await kustomizeBuild(dir, { kubectl, hidePath: dir });
    } catch (error) {
      fail(c, after, (error as Error).message);
    }
    const deployment = parseObjects(rendered)[0] as {
      spec: { template: { spec: { containers: { name: string; image: string }[] } } };
    };
    const images = new Map<string, string>(deployment.spec.template.spec.containers.map((k) => [k.name, k.image]));
    for (const ch of c.changes) {
      if (images.get(ch.project) !== formatImageReference(ch.reference)) {
        fail(
          c,
          after,
          `kubectl kustomize renders ${ch.project} as ${images.get(ch.project)}, not ${formatImageReference(ch.reference)}`,
        );
      }
    }
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
}

export interface PropertyRunStats {
  cases: number;
  kubectlRuns: number;
  nonUtf8Cases: number;
  crlfCases: number;
  ms: number;
}

/** Run the property: `numRuns` generated files, `kubectl kustomize` on every `kubectlEvery`-th kustomization. */
export async function runBumpProperty(opts: {
  seed: number;
  numRuns: number;
  kubectlEvery: number;
  kubectl?: string;
}): Promise<PropertyRunStats> {
  const stats: PropertyRunStats = { cases: 0, kubectlRuns: 0, nonUtf8Cases: 0, crlfCases: 0, ms: 0 };
  const started = Date.now();
  let kustomizations = 0;
  await fc.assert(
    fc.asyncProperty(bumpCase, async (c) => {
      stats.cases++;
      if (hasNonUtf8Bytes(c.text)) stats.nonUtf8Cases++;
      if (c.crlf) stats.crlfCases++;
      const after = checkBump(c);
      if (c.kind === 'kustomize' && !hasNonUtf8Bytes(c.text) && kustomizations++ % opts.kubectlEvery === 0) {
        stats.kubectlRuns++;
        await checkWithKustomize(c, after, opts.kubectl);
      }
    }),
    { seed: opts.seed, numRuns: opts.numRuns, endOnFailure: true },
  );
  stats.ms = Date.now() - started;
  return stats;
}
