import { existsSync, readFileSync } from 'node:fs';
import { relative, resolve } from 'node:path';
import { recordPath } from '../image/record';
import { selectJsonPath, type JsonPath } from './json-path';
import { SmokeConfigError, type ConfigProblem } from './config';
import type { ExpectedVersion, ResolvedExpectation } from './types';

/**
 * Where the expected version comes from. The deploy executor passes `expect` to runSmoke directly;
 * these sources serve the command line:
 *   --expect-version / --expect-revision    explicit values (win over any record)
 *   --expect-from=image                     dist/images/<project>.json written by the image executor
 *   --expect-from=record --expect-record=F  any JSON file: an image-record-shaped object, or
 *                                           { "<project>": {version, revision} }, or
 *                                           { "projects": { "<project>": {...} } }
 *   --expect-from=none                      skip the gate (fails when versionGate.required)
 *   --expect-from=auto (default)            explicit values, else --expect-record, else the image
 *                                           record when it exists, else no expectation
 */
export type ExpectFrom = 'auto' | 'image' | 'record' | 'none';

export interface ExpectOptions {
  workspaceRoot: string;
  project: string;
  expectVersion?: string | number;
  expectRevision?: string;
  expectFrom?: ExpectFrom;
  expectRecord?: string;
}

/** Fields a record may carry that a service can report; others (digest lists, timestamps) are ignored. */
const RECORD_FIELDS = ['version', 'revision', 'contentTag', 'digest'];

export function resolveExpectation(options: ExpectOptions): ResolvedExpectation | null {
  const problems: ConfigProblem[] = [];
  const from = options.expectFrom ?? 'auto';
  if (!['auto', 'image', 'record', 'none'].includes(from)) {
    throw new SmokeConfigError([
      {
        where: '--expect-from',
        message: `"${from}" is not a source: use auto, image, record or none`,
      },
    ]);
  }
  const explicit: ExpectedVersion = {};
  const sources: string[] = [];
  if (options.expectVersion !== undefined) {
    explicit.version = checkValue(String(options.expectVersion), '--expect-version', problems);
    sources.push('--expect-version');
  }
  if (options.expectRevision !== undefined) {
    explicit.revision = checkValue(String(options.expectRevision), '--expect-revision', problems);
    sources.push('--expect-revision');
  }
  if (from === 'record' && !options.expectRecord) {
    problems.push({
      where: '--expect-record',
      message: 'is required with --expect-from=record: give the path of a JSON record',
    });
  }
  if (problems.length) throw new SmokeConfigError(problems);
  if (sources.length) return { fields: explicit, source: sources.join(' ') };
  if (from === 'none') return null;

  if (options.expectRecord && (from === 'auto' || from === 'record')) {
    const file = resolve(options.workspaceRoot, options.expectRecord);
    return {
      fields: readRecord(file, options.project, '--expect-record'),
      source: relative(options.workspaceRoot, file) || file,
    };
  }
  const imageRecord = recordPath(options.workspaceRoot, options.project);
  if (existsSync(imageRecord)) {
    return {
      fields: readRecord(imageRecord, options.project, 'image record'),
      source: relative(options.workspaceRoot, imageRecord),
    };
  }
  if (from === 'image') {
    throw new SmokeConfigError([
      {
        where: '--expect-from=image',
        message: `${relative(options.workspaceRoot, imageRecord)} does not exist: run "nx run ${options.project}:image" first, or pass --expect-version`,
      },
    ]);
  }
  return null;
}

function readRecord(file: string, project: string, label: string): ExpectedVersion {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    throw new SmokeConfigError([
      {
        where: label,
        message: `cannot read ${file} (${reason}): give a JSON record or pass --expect-version`,
      },
    ]);
  }
  const entry = pickEntry(raw, project);
  if (!entry) {
    throw new SmokeConfigError([
      {
        where: label,
        message: `${file} has no entry for "${project}": expected {"project":"${project}","version":...} or {"${project}":{...}}`,
      },
    ]);
  }
  const fields: ExpectedVersion = {};
  for (const key of RECORD_FIELDS) {
    if (typeof entry[key] === 'string' && entry[key] !== '') fields[key] = entry[key] as string;
  }
  if (Object.keys(fields).length === 0) {
    throw new SmokeConfigError([
      {
        where: label,
        message: `${file} entry for "${project}" has none of ${RECORD_FIELDS.join(', ')}`,
      },
    ]);
  }
  return fields;
}

function pickEntry(raw: unknown, project: string): Record<string, unknown> | undefined {
  if (!isObject(raw)) return undefined;
  if (typeof raw['project'] === 'string') return raw['project'] === project ? raw : undefined;
  if (isObject(raw['projects']) && isObject(raw['projects'][project]))
    return raw['projects'][project] as Record<string, unknown>;
  if (isObject(raw[project])) return raw[project] as Record<string, unknown>;
  return undefined;
}

function checkValue(value: string, where: string, problems: ConfigProblem[]): string {
  if (value.trim() === '' || /\s/.test(value)) {
    problems.push({
      where,
      message: `${JSON.stringify(value)} is not a version: give the exact value the service reports (no spaces)`,
    });
  }
  return value;
}

/**
 * Only fields the gate can read are compared. Fields from a record that the service does not report
 * are dropped; explicit ones that cannot be read are an error, so nothing is silently unchecked.
 */
export function applicableExpectation(
  expectation: ResolvedExpectation | null,
  fields: Record<string, JsonPath>,
): { fields: ExpectedVersion; dropped: string[] } | null {
  if (!expectation) return null;
  const applicable: ExpectedVersion = {};
  const dropped: string[] = [];
  for (const [key, value] of Object.entries(expectation.fields)) {
    if (value === undefined) continue;
    if (fields[key]) applicable[key] = value;
    else dropped.push(key);
  }
  return { fields: applicable, dropped };
}

// ---------------------------------------------------------------------------------------------
// Comparison (pure)

export function readObserved(document: unknown, fields: Record<string, JsonPath>): Record<string, string | undefined> {
  const observed: Record<string, string | undefined> = {};
  for (const [key, path] of Object.entries(fields)) {
    const [value] = selectJsonPath(path, document);
    observed[key] =
      value === undefined || value === null ? undefined : typeof value === 'string' ? value : JSON.stringify(value);
  }
  return observed;
}

/**
 * Versions compare exactly. Revisions compare case-insensitively and a short SHA matches its full
 * form (both at least 7 characters), since CI systems print either.
 */
export function fieldMatches(key: string, expected: string, observed: string | undefined): boolean {
  if (observed === undefined) return false;
  if (key !== 'revision') return expected === observed;
  const a = expected.toLowerCase();
  const b = observed.toLowerCase();
  if (a === b) return true;
  const [short, long] = a.length <= b.length ? [a, b] : [b, a];
  return short.length >= 7 && long.startsWith(short);
}

export function versionMatches(expected: ExpectedVersion, observed: Record<string, string | undefined>): boolean {
  return Object.entries(expected).every(
    ([key, value]) => value === undefined || fieldMatches(key, value, observed[key]),
  );
}

/** "1.1.0 (revision 1a2b3c4d5e6f)", "revision 1a2b3c4", "1.1.0 (revision ?, contentTag h-0123)". */
export function describeVersion(
  fields: Record<string, string | undefined>,
  keys: string[] = Object.keys(fields),
): string {
  const show = (key: string): string => {
    const value = fields[key];
    if (value === undefined) return '?';
    return key === 'revision' && /^[0-9a-f]{13,}$/i.test(value) ? value.slice(0, 12) : value;
  };
  const parts = keys.filter((k) => k !== 'version').map((k) => `${k} ${show(k)}`);
  if (!keys.includes('version')) return parts.join(', ');
  return parts.length ? `${show('version')} (${parts.join(', ')})` : show('version');
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
