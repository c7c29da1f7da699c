import * as semver from 'semver';
import { plainScalarKeepsString } from '../manifests/yaml-scalar-safety';
import { GitFacts, isPullRequestEvent } from './git-facts';
import { TAG_PATTERN } from './reference';

/**
 * Tag rules in docker/metadata-action's `tags` input syntax, e.g. `type=ref,event=branch`,
 * `type=semver,pattern={{major}}.{{minor}}`, `type=raw,value=latest,enable={{is_default_branch}}`,
 * or a bare value (`edge`), which is `type=raw,value=edge`.
 */
export type TagRuleType = 'sha' | 'ref' | 'semver' | 'raw';

export interface TagRule {
  type: TagRuleType;
  attrs: Record<string, string>;
  priority: number;
  /** The rule as written, for error messages. */
  source: string;
}

export const DEFAULT_TAG_RULES: readonly string[] = [
  'type=sha',
  'type=ref,event=branch',
  'type=ref,event=tag',
  'type=ref,event=pr',
  'type=semver,pattern={{version}}',
  'type=raw,value=latest,enable={{is_default_branch}}',
];

// metadata-action's default priorities: higher first; the first tag names the version.
const DEFAULT_PRIORITY: Record<TagRuleType, number> = { semver: 900, ref: 600, raw: 200, sha: 100 };
const KNOWN_ATTRS: Record<TagRuleType, string[]> = {
  sha: ['prefix', 'suffix', 'format', 'enable', 'priority'],
  ref: ['event', 'prefix', 'suffix', 'enable', 'priority'],
  semver: ['pattern', 'value', 'prefix', 'suffix', 'enable', 'priority'],
  raw: ['value', 'prefix', 'suffix', 'enable', 'priority'],
};

export const MAX_TAG_LENGTH = 128;

export class TagRuleError extends Error {}

export function parseTagRule(source: string): TagRule {
  const text = source.trim();
  if (!text) throw new TagRuleError('Empty tag rule: remove it, or write e.g. "type=raw,value=edge".');
  if (!text.includes('=')) return { type: 'raw', attrs: { value: text }, priority: DEFAULT_PRIORITY.raw, source };
  const attrs: Record<string, string> = {};
  for (const part of text.split(',')) {
    const eq = part.indexOf('=');
    if (eq <= 0)
      throw new TagRuleError(
        `Tag rule "${source}": "${part}" is not key=value. Write attributes as key=value separated by commas, e.g. "type=ref,event=branch".`,
      );
    attrs[part.slice(0, eq).trim()] = part.slice(eq + 1).trim();
  }
  const type = attrs['type'] as TagRuleType | undefined;
  delete attrs['type'];
  if (!type || !(type in KNOWN_ATTRS)) {
    throw new TagRuleError(`Tag rule "${source}": unknown type "${type ?? ''}". Use one of: sha, ref, semver, raw.`);
  }
  for (const key of Object.keys(attrs)) {
    if (!KNOWN_ATTRS[type].includes(key)) {
      throw new TagRuleError(
        `Tag rule "${source}": unknown attribute "${key}" for type=${type}. Allowed: ${KNOWN_ATTRS[type].join(', ')}.`,
      );
    }
  }
  if (type === 'ref' && !['branch', 'tag', 'pr'].includes(attrs['event'] ?? '')) {
    throw new TagRuleError(`Tag rule "${source}": type=ref needs event=branch, event=tag or event=pr.`);
  }
  if (type === 'semver' && !attrs['pattern']) {
    throw new TagRuleError(`Tag rule "${source}": type=semver needs a pattern, e.g. pattern={{version}}.`);
  }
  if (type === 'raw' && !attrs['value']) throw new TagRuleError(`Tag rule "${source}": type=raw needs value=<tag>.`);
  if (type === 'sha' && attrs['format'] && !['short', 'long'].includes(attrs['format'])) {
    throw new TagRuleError(`Tag rule "${source}": format must be short or long.`);
  }
  let priority = DEFAULT_PRIORITY[type];
  if (attrs['priority'] !== undefined) {
    priority = Number(attrs['priority']);
    if (!Number.isInteger(priority))
      throw new TagRuleError(`Tag rule "${source}": priority "${attrs['priority']}" is not an integer.`);
  }
  return { type, attrs, priority, source };
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

export function isDefaultBranch(facts: GitFacts): boolean {
  return (
    !isPullRequestEvent(facts.event) &&
    !!facts.branch &&
    facts.ref === `refs/heads/${facts.branch}` &&
    facts.branch === facts.defaultBranch
  );
}

function expandGlobals(template: string, facts: GitFacts): string {
  return template
    .replace(/\{\{\s*branch\s*\}\}/g, facts.branch ?? '')
    .replace(/\{\{\s*tag\s*\}\}/g, facts.tag ?? '')
    .replace(/\{\{\s*sha\s*\}\}/g, facts.sha.slice(0, 7))
    .replace(/\{\{\s*is_default_branch\s*\}\}/g, String(isDefaultBranch(facts)))
    .replace(/\{\{\s*is_not_default_branch\s*\}\}/g, String(!isDefaultBranch(facts)));
}

function isEnabled(rule: TagRule, facts: GitFacts): boolean {
  const enable = rule.attrs['enable'];
  if (enable === undefined) return true;
  const value = expandGlobals(enable, facts).trim().toLowerCase();
  if (value !== 'true' && value !== 'false') {
    throw new TagRuleError(
      `Tag rule "${rule.source}": enable must be true, false, {{is_default_branch}} or {{is_not_default_branch}}, got "${enable}".`,
    );
  }
  return value === 'true';
}

function semverValues(rule: TagRule, facts: GitFacts): string[] {
  const raw = rule.attrs['value'] ? expandGlobals(rule.attrs['value'], facts) : facts.tag;
  if (!raw) return [];
  const parsed = semver.parse(raw, { loose: true });
  if (!parsed) return []; // metadata-action skips non-semver tags for type=semver
  const pattern = rule.attrs['pattern'] as string;
  // Pre-releases only ever get the full version: they move too often for a floating major/minor tag.
  if (parsed.prerelease.length > 0) return [parsed.version];
  // Like metadata-action, a floating tag for major version zero is still produced for {{major}}; users disable it with enable=.
  return [
    pattern
      .replace(/\{\{\s*raw\s*\}\}/g, raw)
      .replace(/\{\{\s*version\s*\}\}/g, parsed.version)
      .replace(/\{\{\s*major\s*\}\}/g, String(parsed.major))
      .replace(/\{\{\s*minor\s*\}\}/g, String(parsed.minor))
      .replace(/\{\{\s*patch\s*\}\}/g, String(parsed.patch)),
  ];
}

function ruleValues(rule: TagRule, facts: GitFacts): string[] {
  switch (rule.type) {
    case 'sha':
      return [rule.attrs['format'] === 'long' ? facts.sha : facts.sha.slice(0, 7)];
    case 'ref': {
      const event = rule.attrs['event'];
      if (event === 'branch')
        return !isPullRequestEvent(facts.event) && facts.branch && facts.ref.startsWith('refs/heads/')
          ? [facts.branch]
          : [];
      if (event === 'tag') return facts.tag ? [facts.tag] : [];
      return isPullRequestEvent(facts.event) && facts.prNumber !== undefined ? [String(facts.prNumber)] : [];
    }
    case 'semver':
      return semverValues(rule, facts);
    case 'raw':
      return [expandGlobals(rule.attrs['value'] as string, facts)];
  }
}

function defaultPrefix(rule: TagRule): string {
  if (rule.type === 'sha') return 'sha-';
  if (rule.type === 'ref' && rule.attrs['event'] === 'pr') return 'pr-';
  return '';
}

/** Metadata tags for the given rules and git facts, highest priority first, without duplicates. */
export function computeMetadataTags(ruleSources: readonly string[], facts: GitFacts): string[] {
  const rules = ruleSources.map(parseTagRule);
  const ordered = rules
    .map((rule, index) => ({ rule, index }))
    .sort((a, b) => b.rule.priority - a.rule.priority || a.index - b.index);
  const tags: string[] = [];
  for (const { rule } of ordered) {
    if (!isEnabled(rule, facts)) continue;
    const prefix =
      rule.attrs['prefix'] !== undefined ? expandGlobals(rule.attrs['prefix'], facts) : defaultPrefix(rule);
    const suffix = rule.attrs['suffix'] !== undefined ? expandGlobals(rule.attrs['suffix'], facts) : '';
    for (const value of ruleValues(rule, facts)) {
      const literal = `${rule.attrs['prefix'] ?? ''}${rule.attrs['value'] ?? ''}${rule.attrs['suffix'] ?? ''}`;
      // A literal typed by the user is checked, not rewritten: values from git (branch, tag) are sanitized.
      if (rule.type === 'raw' && !literal.includes('{{')) assertValidTags([`${prefix}${value}${suffix}`]);
      const tag = sanitizeTag(`${prefix}${value}${suffix}`);
      if (tag && !tags.includes(tag)) tags.push(tag);
    }
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
