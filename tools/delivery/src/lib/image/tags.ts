import * as semver from 'semver';
import { plainScalarKeepsString } from '../manifests/yaml-scalar-safety';
import { GitFacts, isPullRequestEvent } from './git-facts';
import { TAG_PATTERN } from './reference';
import { Helper, TagExpressionError, dateHelper, isSingleExpression, renderExpressions } from './tag-expressions';

/**
 * Tag rules in docker/metadata-action's `tags` input syntax, with its `flavor` input and its
 * semantics: `type=schedule|semver|match|edge|ref|raw|sha` with `prefix`, `suffix`, `enable`,
 * `priority`; a bare value (`edge`, or `type=raw,edge`) is a raw value. PEP 440 is not supported.
 * Release tags `<project>@<version>` are understood: each project takes its own tag of the commit.
 */
export type TagRuleType = 'schedule' | 'semver' | 'match' | 'edge' | 'ref' | 'raw' | 'sha';

export interface TagRule {
  type: TagRuleType;
  attrs: Record<string, string>;
  priority: number;
  /** The rule as written, for error messages. */
  source: string;
}

export interface Flavor {
  latest: 'auto' | 'true' | 'false';
  prefix: string;
  prefixLatest: boolean;
  suffix: string;
  suffixLatest: boolean;
}

/** What the tags depend on besides the rules and git: the flavor lines, the project, the clock. */
export interface TagContext {
  flavor?: readonly string[];
  /** The project being tagged: picks its own `<project>@<version>` release tag. */
  project?: string;
  now?: Date;
}

export const DEFAULT_TAG_RULES: readonly string[] = [
  'type=sha',
  'type=ref,event=branch',
  'type=ref,event=tag',
  'type=ref,event=pr',
  'type=semver,pattern={{version}}',
  'type=raw,value=latest,enable={{is_default_branch}}',
];

/** The tags `nx release publish` adds to an image for its release tag `<project>@<version>`. */
export const RELEASE_TAG_RULES: readonly string[] = [
  'type=semver,pattern={{version}}',
  'type=semver,pattern={{major}}.{{minor}}',
  'type=semver,pattern={{major}}',
];

// metadata-action's default priorities: higher first; the first tag names the version.
const DEFAULT_PRIORITY: Record<TagRuleType, number> = {
  schedule: 1000,
  semver: 900,
  match: 800,
  edge: 700,
  ref: 600,
  raw: 200,
  sha: 100,
};
const COMMON_ATTRS = ['prefix', 'suffix', 'enable', 'priority'];
const KNOWN_ATTRS: Record<TagRuleType, string[]> = {
  schedule: ['pattern', ...COMMON_ATTRS],
  semver: ['pattern', 'value', ...COMMON_ATTRS],
  match: ['pattern', 'group', 'value', ...COMMON_ATTRS],
  edge: ['branch', ...COMMON_ATTRS],
  ref: ['event', ...COMMON_ATTRS],
  raw: ['value', ...COMMON_ATTRS],
  sha: ['format', ...COMMON_ATTRS],
};

export const MAX_TAG_LENGTH = 128;
const RELEASE_TAG = /^(.+)@(v?\d+\.\d+\.\d+(?:[-+].*)?)$/;

export class TagRuleError extends Error {}

/** Split one CSV line (metadata-action reads rules as CSV): commas separate, double quotes group. */
function csvFields(line: string, source: string): string[] {
  const fields: string[] = [];
  let current = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const char = line[i] as string;
    if (char === '"') {
      if (quoted && line[i + 1] === '"') {
        current += '"';
        i++;
      } else quoted = !quoted;
    } else if (char === ',' && !quoted) {
      fields.push(current.trim());
      current = '';
    } else current += char;
  }
  if (quoted)
    throw new TagRuleError(`Tag rule "${source}": unclosed double quote. Close it, e.g. type=raw,value="a,b".`);
  fields.push(current.trim());
  return fields.filter((field) => field !== '');
}

export function parseTagRule(source: string): TagRule {
  const text = source.trim();
  if (!text) throw new TagRuleError('Empty tag rule: remove it, or write e.g. "type=raw,value=edge".');
  const attrs: Record<string, string> = {};
  const bare: string[] = [];
  let type: string | undefined;
  for (const field of csvFields(text, source)) {
    const eq = field.indexOf('=');
    if (eq < 0) {
      bare.push(field);
      continue;
    }
    if (eq === 0) throw new TagRuleError(`Tag rule "${source}": "${field}" has no key. Write attributes as key=value.`);
    const key = field.slice(0, eq).trim().toLowerCase();
    const value = field.slice(eq + 1).trim();
    if (key === 'type') type = value;
    else attrs[key] = value;
  }
  type ??= 'raw';
  if (type === 'pep440')
    throw new TagRuleError(`Tag rule "${source}": type=pep440 is not supported. Use type=semver or type=match.`);
  if (!(type in KNOWN_ATTRS)) {
    throw new TagRuleError(
      `Tag rule "${source}": unknown type "${type}". Use one of: ${Object.keys(KNOWN_ATTRS).join(', ')}.`,
    );
  }
  const ruleType = type as TagRuleType;
  if (bare.length > 0) {
    if (ruleType !== 'raw' || bare.length > 1 || attrs['value'] !== undefined)
      throw new TagRuleError(
        `Tag rule "${source}": "${bare[0]}" is not key=value. Write attributes as key=value separated by commas, e.g. "type=ref,event=branch" (only type=raw takes one bare value).`,
      );
    attrs['value'] = bare[0] as string;
  }
  for (const key of Object.keys(attrs)) {
    if (!KNOWN_ATTRS[ruleType].includes(key)) {
      throw new TagRuleError(
        `Tag rule "${source}": unknown attribute "${key}" for type=${ruleType}. Allowed: ${KNOWN_ATTRS[ruleType].join(', ')}.`,
      );
    }
  }
  if (ruleType === 'ref' && !['branch', 'tag', 'pr'].includes(attrs['event'] ?? '')) {
    throw new TagRuleError(`Tag rule "${source}": type=ref needs event=branch, event=tag or event=pr.`);
  }
  if ((ruleType === 'semver' || ruleType === 'match') && !attrs['pattern']) {
    throw new TagRuleError(
      `Tag rule "${source}": type=${ruleType} needs a pattern, e.g. ${ruleType === 'semver' ? 'pattern={{version}}' : 'pattern=v(.*),group=1'}.`,
    );
  }
  if (ruleType === 'match') {
    const group = attrs['group'] ?? '0';
    if (!/^\d+$/.test(group))
      throw new TagRuleError(`Tag rule "${source}": group "${group}" is not a number; write e.g. group=1.`);
    matchRegExp(attrs['pattern'] as string, source);
  }
  if (ruleType === 'raw' && !attrs['value'])
    throw new TagRuleError(`Tag rule "${source}": type=raw needs value=<tag>.`);
  if (ruleType === 'sha' && attrs['format'] && !['short', 'long'].includes(attrs['format'])) {
    throw new TagRuleError(`Tag rule "${source}": format must be short or long.`);
  }
  let priority = DEFAULT_PRIORITY[ruleType];
  if (attrs['priority'] !== undefined) {
    priority = Number(attrs['priority']);
    if (!Number.isInteger(priority))
      throw new TagRuleError(`Tag rule "${source}": priority "${attrs['priority']}" is not an integer.`);
  }
  return { type: ruleType, attrs, priority, source };
}

/** A `pattern=` of type=match: `/re/flags` or a plain regular expression. */
function matchRegExp(pattern: string, source: string): RegExp {
  const literal = /^\/(.+)\/([a-z]*)$/.exec(pattern);
  try {
    return literal ? new RegExp(literal[1] as string, literal[2]) : new RegExp(pattern);
  } catch (error) {
    throw new TagRuleError(
      `Tag rule "${source}": pattern is not a valid regular expression (${(error as Error).message}).`,
    );
  }
}

export function parseFlavor(lines: readonly string[]): Flavor {
  const flavor: Flavor = { latest: 'auto', prefix: '', prefixLatest: false, suffix: '', suffixLatest: false };
  for (const line of lines) {
    if (!line.trim()) continue;
    let onLatestFor: 'prefix' | 'suffix' | undefined;
    for (const field of csvFields(line, line)) {
      const eq = field.indexOf('=');
      if (eq <= 0)
        throw new TagRuleError(
          `Flavor "${line}": "${field}" is not key=value. Write e.g. "latest=auto", "prefix=foo-,onlatest=true".`,
        );
      const key = field.slice(0, eq).trim().toLowerCase();
      const value = field.slice(eq + 1).trim();
      switch (key) {
        case 'latest':
          if (value !== 'auto' && value !== 'true' && value !== 'false')
            throw new TagRuleError(`Flavor "${line}": latest must be auto, true or false, got "${value}".`);
          flavor.latest = value;
          break;
        case 'prefix':
        case 'suffix':
          flavor[key] = value;
          onLatestFor = key;
          break;
        case 'onlatest':
          if (value !== 'true' && value !== 'false')
            throw new TagRuleError(`Flavor "${line}": onlatest must be true or false, got "${value}".`);
          if (!onLatestFor)
            throw new TagRuleError(`Flavor "${line}": onlatest belongs after prefix= or suffix= on the same line.`);
          flavor[onLatestFor === 'prefix' ? 'prefixLatest' : 'suffixLatest'] = value === 'true';
          break;
        default:
          throw new TagRuleError(
            `Flavor "${line}": unknown entry "${key}". Use latest=, prefix=, suffix= and onlatest=.`,
          );
      }
    }
  }
  return flavor;
}

/**
 * metadata-action's sanitizing: every run of characters outside [A-Za-z0-9_.-] becomes `-`.
 * Docker also forbids a leading `.` or `-` and more than 128 characters, so those are trimmed.
 */
export function sanitizeTag(value: string): string {
  return value
    .replace(/[^a-zA-Z0-9._-]+/g, '-')
    .replace(/^[.-]+/, '')
    .slice(0, MAX_TAG_LENGTH);
}

export function isValidTag(tag: string): boolean {
  return TAG_PATTERN.test(tag);
}

/**
 * Whether a tag must be quoted where it is written into YAML: valid OCI tags such as `yes`, `on`,
 * `012`, `1e3` or `1.10` read as booleans or numbers in YAML 1.1 (Helm, kustomize) or 1.2 readers
 * if written plain. The GitOps writer uses this same rule (yaml-scalar-safety.ts).
 */
export function tagNeedsYamlQuotes(tag: string): boolean {
  return !plainScalarKeepsString(tag);
}

function branchOfRef(facts: GitFacts): string {
  return facts.ref.startsWith('refs/heads/') ? facts.ref.slice('refs/heads/'.length) : '';
}

export function isDefaultBranch(facts: GitFacts): boolean {
  if (isPullRequestEvent(facts.event)) return false;
  const branch = branchOfRef(facts);
  if (!branch) return false;
  if (branch === facts.defaultBranch) return true;
  // These events always run on the last commit of the default branch (metadata-action's rule).
  return /create|discussion|issues|schedule/.test(facts.event);
}

/** A release tag `<project>@<version>`: the project and its version. */
export function parseReleaseTag(tag: string): { project: string; version: string } | undefined {
  const match = RELEASE_TAG.exec(tag);
  if (!match || !semver.valid(match[2] as string)) return undefined;
  return { project: match[1] as string, version: match[2] as string };
}

/**
 * The git tag this build is for, from the project's point of view: on a commit carrying several
 * `<project>@<version>` tags each project takes its own, and another project's release tag is not a
 * tag build for this one. Plain tags (`v1.2.3`) belong to every project.
 */
function tagFor(facts: GitFacts, project: string | undefined): { tag: string; version: string } | undefined {
  if (!facts.tag) return undefined;
  if (project) {
    for (const candidate of [facts.tag, ...(facts.tagsAtHead ?? [])]) {
      const release = parseReleaseTag(candidate);
      if (release?.project === project) return { tag: candidate, version: release.version };
    }
  }
  if (parseReleaseTag(facts.tag)) return undefined;
  return { tag: facts.tag, version: facts.tag.replace(/\//g, '-') };
}

interface Evaluation {
  facts: GitFacts;
  tag?: { tag: string; version: string };
  flavor: Flavor;
  now: Date;
}

function globalHelpers(ev: Evaluation): Record<string, Helper> {
  const { facts } = ev;
  const commitDate = facts.commitDate ? new Date(facts.commitDate) : ev.now;
  return {
    branch: () => branchOfRef(facts),
    tag: () => ev.tag?.tag ?? '',
    sha: () => facts.sha.slice(0, 7),
    base_ref: () => (ev.tag || isPullRequestEvent(facts.event) ? (facts.baseRef ?? '') : ''),
    is_default_branch: () => String(isDefaultBranch(facts)),
    is_not_default_branch: () => String(!isDefaultBranch(facts)),
    date: dateHelper(ev.now),
    commit_date: dateHelper(Number.isNaN(commitDate.getTime()) ? ev.now : commitDate),
  };
}

/** Render one attribute; `where` names the rule (or flavor line) in errors. */
function render(where: TagRule | 'flavor', attr: string, template: string, helpers: Record<string, Helper>): string {
  try {
    return renderExpressions(template, helpers);
  } catch (error) {
    if (error instanceof TagExpressionError)
      throw new TagRuleError(
        `${where === 'flavor' ? 'Flavor' : `Tag rule "${where.source}"`}: ${attr}=${template}: ${error.message}.`,
      );
    throw error;
  }
}

function isEnabled(rule: TagRule, ev: Evaluation): boolean {
  const enable = rule.attrs['enable'];
  if (enable === undefined) return true;
  const value = render(rule, 'enable', enable, globalHelpers(ev)).trim().toLowerCase();
  if (value !== 'true' && value !== 'false') {
    throw new TagRuleError(
      `Tag rule "${rule.source}": enable must be true, false, {{is_default_branch}} or {{is_not_default_branch}}, got "${enable}".`,
    );
  }
  return value === 'true';
}

/** One rule's value and whether it makes `latest` under latest=auto; undefined when it does not apply. */
function ruleValue(rule: TagRule, ev: Evaluation): { value: string; latestOnAuto: boolean } | undefined {
  const { facts } = ev;
  const globals = globalHelpers(ev);
  switch (rule.type) {
    case 'schedule': {
      if (!/schedule/.test(facts.event)) return undefined;
      const value = render(rule, 'pattern', rule.attrs['pattern'] ?? 'nightly', {
        date: globals['date'] as Helper,
        commit_date: globals['commit_date'] as Helper,
      });
      return { value, latestOnAuto: false };
    }
    case 'semver': {
      const raw = rule.attrs['value'] ? render(rule, 'value', rule.attrs['value'], globals) : ev.tag?.version;
      if (!raw || !semver.valid(raw)) return undefined; // metadata-action skips non-semver values
      const parsed = semver.parse(raw, { loose: true }) as semver.SemVer;
      const pattern = rule.attrs['pattern'] as string;
      const vars: Record<string, Helper> = {
        raw: () => raw,
        version: () => parsed.version,
        major: () => String(parsed.major),
        minor: () => String(parsed.minor),
        patch: () => String(parsed.patch),
      };
      // Pre-releases only ever get the full version (or {{raw}}): they move too often for floating tags.
      if (parsed.prerelease.length > 0)
        return { value: isSingleExpression(pattern, 'raw') ? raw : parsed.version, latestOnAuto: false };
      return { value: render(rule, 'pattern', pattern, vars), latestOnAuto: true };
    }
    case 'match': {
      const raw = rule.attrs['value'] ? render(rule, 'value', rule.attrs['value'], globals) : ev.tag?.tag;
      if (!raw) return undefined;
      const match = matchRegExp(rule.attrs['pattern'] as string, rule.source).exec(raw);
      const group = match?.[Number(rule.attrs['group'] ?? '0')];
      if (group === undefined) return undefined;
      return { value: group, latestOnAuto: true };
    }
    case 'edge': {
      const branch = branchOfRef(facts);
      if (!branch || isPullRequestEvent(facts.event)) return undefined;
      return branch === (rule.attrs['branch'] || facts.defaultBranch)
        ? { value: 'edge', latestOnAuto: false }
        : undefined;
    }
    case 'ref': {
      const event = rule.attrs['event'];
      if (event === 'branch') {
        const branch = isPullRequestEvent(facts.event) ? '' : branchOfRef(facts);
        return branch ? { value: branch, latestOnAuto: false } : undefined;
      }
      if (event === 'tag') return ev.tag ? { value: ev.tag.tag, latestOnAuto: true } : undefined;
      return isPullRequestEvent(facts.event) && facts.prNumber !== undefined
        ? { value: String(facts.prNumber), latestOnAuto: false }
        : undefined;
    }
    case 'raw':
      return { value: render(rule, 'value', rule.attrs['value'] as string, globals), latestOnAuto: false };
    case 'sha':
      return { value: rule.attrs['format'] === 'long' ? facts.sha : facts.sha.slice(0, 7), latestOnAuto: false };
  }
}

function defaultPrefix(rule: TagRule): string | undefined {
  if (rule.type === 'sha') return 'sha-';
  if (rule.type === 'ref' && rule.attrs['event'] === 'pr') return 'pr-';
  return undefined;
}

/**
 * Metadata tags for the given rules and git facts, as metadata-action computes them: highest
 * priority first, without duplicates, `latest` (per flavor) last.
 */
export function computeMetadataTags(
  ruleSources: readonly string[],
  facts: GitFacts,
  context: TagContext = {},
): string[] {
  const rules = ruleSources.map(parseTagRule);
  const ev: Evaluation = {
    facts,
    tag: tagFor(facts, context.project),
    flavor: parseFlavor(context.flavor ?? []),
    now: context.now ?? new Date(),
  };
  const globals = globalHelpers(ev);
  const ordered = rules
    .map((rule, index) => ({ rule, index }))
    .sort((a, b) => b.rule.priority - a.rule.priority || a.index - b.index);
  const tags: string[] = [];
  let latest: boolean | undefined;
  for (const { rule } of ordered) {
    if (!isEnabled(rule, ev)) continue;
    const result = ruleValue(rule, ev);
    if (!result || result.value === '') continue;
    // A rule's own prefix/suffix (sha- and pr- by default) wins over the flavor's.
    const ownPrefix = rule.attrs['prefix'] ?? defaultPrefix(rule);
    const prefix = render(rule, 'prefix', ownPrefix ?? ev.flavor.prefix, globals);
    const suffix = render(rule, 'suffix', rule.attrs['suffix'] ?? ev.flavor.suffix, globals);
    const written = `${prefix}${result.value}${suffix}`;
    const literal = `${rule.attrs['prefix'] ?? ''}${rule.attrs['value'] ?? ''}${rule.attrs['suffix'] ?? ''}`;
    // A literal typed by the user is checked, not rewritten: values from git (branch, tag) are sanitized.
    if (rule.type === 'raw' && !literal.includes('{{') && !ev.flavor.prefix && !ev.flavor.suffix)
      assertValidTags([written]);
    const tag = sanitizeTag(written);
    if (!tag) continue;
    // The first tag produced decides `latest` (metadata-action's rule).
    latest ??= ev.flavor.latest === 'auto' ? result.latestOnAuto : ev.flavor.latest === 'true';
    if (!tags.includes(tag)) tags.push(tag);
  }
  if (latest) {
    const latestTag = sanitizeTag(
      `${ev.flavor.prefixLatest ? render('flavor', 'prefix', ev.flavor.prefix, globals) : ''}latest${
        ev.flavor.suffixLatest ? render('flavor', 'suffix', ev.flavor.suffix, globals) : ''
      }`,
    );
    if (!tags.includes(latestTag)) tags.push(latestTag);
  }
  return tags;
}

/** The content tag: `h-` and the first 12 characters of the Nx task hash of the image task. */
export function contentTagFromHash(taskHash: string): string {
  const hex = taskHash.trim().toLowerCase();
  if (!/^[0-9a-z]{12,}$/.test(hex)) {
    throw new Error(
      `The Nx task hash "${taskHash}" is not usable for a content tag (expected at least 12 alphanumeric characters). Run the image target through Nx (nx run <project>:image).`,
    );
  }
  return `h-${hex.slice(0, 12)}`;
}

/** Validate user-supplied extra tags exactly (no silent rewriting of what the user typed). */
export function assertValidTags(tags: readonly string[]): void {
  for (const tag of tags) {
    if (!isValidTag(tag)) {
      throw new TagRuleError(
        `Invalid image tag "${tag}": a tag is 1-128 characters of A-Z a-z 0-9 _ . - and must not start with "." or "-". Use "${sanitizeTag(tag) || 'a-valid-tag'}" instead.`,
      );
    }
  }
}
