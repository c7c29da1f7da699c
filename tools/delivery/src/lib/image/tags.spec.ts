import { GitFacts } from './git-facts';
import {
  DEFAULT_TAG_RULES,
  MAX_TAG_LENGTH,
  assertValidTags,
  computeMetadataTags,
  contentTagFromHash,
  parseTagRule,
  sanitizeTag,
  tagNeedsYamlQuotes,
} from './tags';

const SHA = '1a2b3c4d5e6f708192a3b4c5d6e7f80912a3b4c5';
const push = (branch: string, extra: Partial<GitFacts> = {}): GitFacts => ({
  sha: SHA,
  event: 'push',
  ref: `refs/heads/${branch}`,
  branch,
  defaultBranch: 'main',
  ...extra,
});
const tagPush = (tag: string): GitFacts => ({
  sha: SHA,
  event: 'push',
  ref: `refs/tags/${tag}`,
  tag,
  defaultBranch: 'main',
});
const pr = (n: number, head: string): GitFacts => ({
  sha: SHA,
  event: 'pull_request',
  ref: `refs/pull/${n}/merge`,
  prNumber: n,
  branch: head,
  defaultBranch: 'main',
});

describe('metadata-action tag rules', () => {
  // [case, rules, facts, expected tags in order]
  const table: [string, readonly string[], GitFacts, string[]][] = [
    ['default branch push: sha, branch, latest', DEFAULT_TAG_RULES, push('main'), ['main', 'latest', 'sha-1a2b3c4']],
    ['other branch: no latest', DEFAULT_TAG_RULES, push('develop'), ['develop', 'sha-1a2b3c4']],
    ['branch with slashes', ['type=ref,event=branch'], push('feature/new-thing'), ['feature-new-thing']],
    [
      'uppercase is kept (tags are case sensitive), invalid runs become one -',
      ['type=ref,event=branch'],
      push('Feature/ABC@@x'),
      ['Feature-ABC-x'],
    ],
    ['leading dot or dash is dropped', ['type=ref,event=branch'], push('-.hidden'), ['hidden']],
    [
      'pull request: pr-<n>, no branch tag, no latest even from main head',
      DEFAULT_TAG_RULES,
      pr(42, 'main'),
      ['pr-42', 'sha-1a2b3c4'],
    ],
    [
      'semver tag with v: latest=auto adds latest',
      DEFAULT_TAG_RULES,
      tagPush('v1.2.3'),
      ['1.2.3', 'v1.2.3', 'sha-1a2b3c4', 'latest'],
    ],
    [
      'semver tag without v',
      ['type=semver,pattern={{version}}', 'type=semver,pattern={{major}}.{{minor}}', 'type=semver,pattern={{major}}'],
      tagPush('1.2.3'),
      ['1.2.3', '1.2', '1', 'latest'],
    ],
    ['semver raw keeps the v', ['type=semver,pattern={{raw}}'], tagPush('v1.2.3'), ['v1.2.3', 'latest']],
    [
      'pre-release: only the full version, even for {{major}}.{{minor}}',
      ['type=semver,pattern={{version}}', 'type=semver,pattern={{major}}.{{minor}}'],
      tagPush('v2.0.8-beta.67'),
      ['2.0.8-beta.67'],
    ],
    ['semver on a non-semver tag: nothing', ['type=semver,pattern={{version}}'], tagPush('release-2024'), []],
    ['semver on a branch build: nothing', ['type=semver,pattern={{version}}'], push('main'), []],
    ['semver from value', ['type=semver,pattern={{major}}.{{minor}},value=v3.4.5'], push('main'), ['3.4', 'latest']],
    ['sha long and custom prefix', ['type=sha,format=long,prefix=git-'], push('main'), [`git-${SHA}`]],
    [
      'raw with enable is_not_default_branch',
      ['type=raw,value=edge,enable={{is_not_default_branch}}'],
      push('dev'),
      ['edge'],
    ],
    ['raw with globals', ['type=raw,value=build-{{branch}}-{{sha}}'], push('a/b'), ['build-a-b-1a2b3c4']],
    ['bare value is raw', ['stable'], push('x'), ['stable']],
    [
      'priority orders tags; duplicates collapse',
      ['type=raw,value=main,priority=50', 'type=ref,event=branch'],
      push('main'),
      ['main'],
    ],
    ['enable=false drops the rule', ['type=sha,enable=false', 'type=ref,event=branch'], push('main'), ['main']],
    [
      'tag push is not a default-branch build',
      ['type=raw,value=latest,enable={{is_default_branch}}'],
      tagPush('v1.0.0'),
      [],
    ],
    [
      'local detached HEAD without tag: only sha',
      DEFAULT_TAG_RULES,
      { sha: SHA, event: 'local', ref: '', defaultBranch: 'main' },
      ['sha-1a2b3c4'],
    ],
  ];
  it.each(table)('%s', (_name, rules, facts, expected) => {
    expect(computeMetadataTags(rules, facts)).toEqual(expected);
  });

  it('cuts tags to 128 characters', () => {
    const long = `feature/${'x'.repeat(200)}`;
    const [tag] = computeMetadataTags(['type=ref,event=branch'], push(long));
    expect(tag).toHaveLength(MAX_TAG_LENGTH);
    expect(tag?.startsWith('feature-xxx')).toBe(true);
  });

  it('sanitizes like metadata-action', () => {
    expect(sanitizeTag('a b//c')).toBe('a-b-c');
    expect(sanitizeTag('ok_1.2-3')).toBe('ok_1.2-3');
  });

  it.each([
    ['type=foo', /unknown type "foo"/],
    ['type=ref', /needs event=branch/],
    ['type=ref,event=push', /needs event=branch/],
    ['type=semver', /needs a pattern/],
    ['type=raw', /needs value=/],
    ['type=sha,format=medium', /format must be short or long/],
    ['type=sha,colour=red', /unknown attribute "colour"/],
    ['type=sha,priority=high', /priority "high" is not an integer/],
    ['type=ref,event=branch,junk', /"junk" is not key=value/],
  ])('rejects the rule %s with a clear message', (rule, message) => {
    expect(() => parseTagRule(rule)).toThrow(message);
  });

  it('checks literal raw tags instead of rewriting them', () => {
    expect(() => computeMetadataTags(['type=raw,value=Release Candidate'], push('main'))).toThrow(
      /Invalid image tag "Release Candidate".*Use "Release-Candidate" instead/,
    );
    expect(() => computeMetadataTags(['type=raw,value=ok,prefix=.'], push('main'))).toThrow(/must not start with/);
  });

  it('rejects enable values it cannot evaluate', () => {
    expect(() => computeMetadataTags(['type=sha,enable=maybe'], push('main'))).toThrow(/enable must be true, false/);
  });

  it('rejects invalid user tags and proposes a valid one', () => {
    expect(() => assertValidTags(['ok', 'bad tag!'])).toThrow(/Invalid image tag "bad tag!".*Use "bad-tag-" instead/);
    expect(() => assertValidTags(['.dot'])).toThrow(/must not start with/);
    expect(() => assertValidTags(['x'.repeat(129)])).toThrow(/1-128 characters/);
    expect(() => assertValidTags(['v1.2.3', 'sha-abc', 'h-0123456789ab'])).not.toThrow();
  });
});

describe('content tag', () => {
  it('is h- and the first 12 characters of the task hash', () => {
    expect(contentTagFromHash('0123456789abcdef0123')).toBe('h-0123456789ab');
  });
  it('refuses a missing or short hash', () => {
    expect(() => contentTagFromHash('')).toThrow(/not usable for a content tag/);
    expect(() => contentTagFromHash('abc')).toThrow(/not usable/);
  });
});

describe('tags written into YAML', () => {
  it('flags every valid tag a YAML 1.1 or 1.2 reader would not read back as that string', () => {
    for (const tag of [
      'yes',
      'no',
      'on',
      'off',
      'y',
      'n',
      'true',
      'null',
      '1e3',
      '0x1F',
      '0o17',
      '012',
      '0b101',
      '1_000',
    ]) {
      expect(tagNeedsYamlQuotes(tag)).toBe(true);
    }
    // {{major}}.{{minor}} semver tags are floats to every reader.
    expect(tagNeedsYamlQuotes('1.10')).toBe(true);
    for (const tag of ['h-0123456789ab', 'sha-1a2b3c4', 'v1.2.3', 'pr-12', 'main', 'edge']) {
      expect(tagNeedsYamlQuotes(tag)).toBe(false);
    }
  });
});
