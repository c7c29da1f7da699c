import { GitFacts } from './git-facts';
import { RELEASE_TAG_RULES, computeMetadataTags, parseFlavor } from './tags';
import { formatMomentDate } from './tag-expressions';

/**
 * Cases in docker/metadata-action's own form: the `tags` and `flavor` input lines plus the GitHub
 * context (event, ref, sha, date) → the expected tag list, in order. Expected values follow the
 * action's README tables and its semantics (priority order, first tag decides latest=auto).
 */
interface ActionCase {
  name: string;
  event: string;
  ref: string;
  tags: string[];
  flavor?: string[];
  expected: string[];
  defaultBranch?: string;
  baseRef?: string;
  commitDate?: string;
  /** Every tag on the commit (release tags of several projects). */
  tagsAtHead?: string[];
  project?: string;
}

const SHA = '860c1904a1ce19322e91ac35af1ab07466440c37';
const DATE = new Date('2020-01-10T00:30:00.000Z');

function contextFacts(c: ActionCase): GitFacts {
  const facts: GitFacts = { sha: SHA, event: c.event, ref: c.ref, defaultBranch: c.defaultBranch ?? 'master' };
  if (c.ref.startsWith('refs/heads/')) facts.branch = c.ref.slice('refs/heads/'.length);
  if (c.ref.startsWith('refs/tags/')) facts.tag = c.ref.slice('refs/tags/'.length);
  const pr = /^refs\/pull\/(\d+)\//.exec(c.ref);
  if (pr) facts.prNumber = Number(pr[1]);
  if (c.baseRef) facts.baseRef = c.baseRef;
  if (c.commitDate) facts.commitDate = c.commitDate;
  if (c.tagsAtHead) facts.tagsAtHead = c.tagsAtHead;
  return facts;
}

const push = (branch: string) => ({ event: 'push', ref: `refs/heads/${branch}` });
const tag = (name: string) => ({ event: 'push', ref: `refs/tags/${name}` });
const SEMVER3 = [
  'type=semver,pattern={{version}}',
  'type=semver,pattern={{major}}.{{minor}}',
  'type=semver,pattern={{major}}',
];

const cases: ActionCase[] = [
  // type=schedule
  {
    name: 'schedule: default pattern',
    event: 'schedule',
    ref: 'refs/heads/master',
    tags: ['type=schedule'],
    expected: ['nightly'],
  },
  {
    name: 'schedule: date pattern',
    event: 'schedule',
    ref: 'refs/heads/master',
    tags: ["type=schedule,pattern={{date 'YYYYMMDD'}}"],
    expected: ['20200110'],
  },
  {
    name: 'schedule: date pattern with tz',
    event: 'schedule',
    ref: 'refs/heads/master',
    tags: ["type=schedule,pattern={{date 'YYYYMMDD-HHmmss' tz='Asia/Tokyo'}}"],
    expected: ['20200110-093000'],
  },
  {
    name: 'schedule: ignored on push',
    ...push('master'),
    tags: ['type=schedule', 'type=sha'],
    expected: ['sha-860c190'],
  },
  {
    name: 'schedule: is_default_branch is true on schedule',
    event: 'schedule',
    ref: 'refs/heads/master',
    tags: ['type=schedule', 'type=raw,value=stable,enable={{is_default_branch}}'],
    expected: ['nightly', 'stable'],
  },
  // type=semver
  {
    name: 'semver: three patterns + latest',
    ...tag('v1.1.1'),
    tags: SEMVER3,
    expected: ['1.1.1', '1.1', '1', 'latest'],
  },
  {
    name: 'semver: latest=false',
    ...tag('v1.1.1'),
    tags: SEMVER3,
    flavor: ['latest=false'],
    expected: ['1.1.1', '1.1', '1'],
  },
  {
    name: 'semver: pre-release only gets the version and no latest',
    ...tag('v2.0.8-beta.67'),
    tags: SEMVER3,
    expected: ['2.0.8-beta.67'],
  },
  {
    name: 'semver: pre-release with {{raw}}',
    ...tag('v2.0.8-beta.67'),
    tags: ['type=semver,pattern={{raw}}'],
    expected: ['v2.0.8-beta.67'],
  },
  {
    name: 'semver: v{{major}}',
    ...tag('v1.2.3'),
    tags: ['type=semver,pattern=v{{major}}'],
    expected: ['v1', 'latest'],
  },
  { name: 'semver: not semver', ...tag('sometag'), tags: SEMVER3, expected: [] },
  {
    name: 'semver: value on a branch',
    ...push('master'),
    tags: ['type=semver,pattern={{version}},value=v1.0.0'],
    expected: ['1.0.0', 'latest'],
  },
  // type=match
  {
    name: 'match: \\d.\\d.\\d',
    ...tag('v1.2.3'),
    tags: ['type=match,pattern=\\d.\\d.\\d'],
    expected: ['1.2.3', 'latest'],
  },
  {
    name: 'match: group 1 of a pre-release',
    ...tag('v2.0.8-beta.67'),
    tags: ['type=match,pattern=v(.*),group=1'],
    expected: ['2.0.8-beta.67', 'latest'],
  },
  {
    name: 'match: v(\\d.\\d)',
    ...tag('v2.0.8-beta.67'),
    tags: ['type=match,pattern=v(\\d.\\d),group=1'],
    expected: ['2.0', 'latest'],
  },
  { name: 'match: \\d+', ...tag('20200110-RC2'), tags: ['type=match,pattern=\\d+'], expected: ['20200110', 'latest'] },
  {
    name: 'match: slash in tag',
    ...tag('p1/v1.2.3'),
    tags: ['type=match,pattern=p1/v(\\d.\\d.\\d),group=1'],
    expected: ['1.2.3', 'latest'],
  },
  { name: 'match: no match', ...tag('release1'), tags: ['type=match,pattern=v(.*),group=1'], expected: [] },
  {
    name: 'match: /regex/flags form and value',
    ...push('master'),
    tags: ['type=match,pattern=/V(\\d+)/i,group=1,value=v42'],
    expected: ['42', 'latest'],
  },
  // type=edge
  { name: 'edge: default branch', ...push('master'), tags: ['type=edge'], expected: ['edge'] },
  { name: 'edge: other branch', ...push('dev'), tags: ['type=edge', 'type=ref,event=branch'], expected: ['dev'] },
  { name: 'edge: branch attribute', ...push('dev'), tags: ['type=edge,branch=dev'], expected: ['edge'] },
  { name: 'edge: not on tags', ...tag('v1.0.0'), tags: ['type=edge'], expected: [] },
  // type=ref
  {
    name: 'ref: tag event makes latest',
    ...tag('v1.1.1'),
    tags: ['type=ref,event=tag'],
    expected: ['v1.1.1', 'latest'],
  },
  { name: 'ref: branch with slash', ...push('my/branch'), tags: ['type=ref,event=branch'], expected: ['my-branch'] },
  {
    name: 'ref: pull request',
    event: 'pull_request',
    ref: 'refs/pull/2/merge',
    tags: ['type=ref,event=branch', 'type=ref,event=pr', 'type=sha'],
    expected: ['pr-2', 'sha-860c190'],
  },
  {
    name: 'ref: branch with latest=true',
    ...push('dev'),
    tags: ['type=ref,event=branch'],
    flavor: ['latest=true'],
    expected: ['dev', 'latest'],
  },
  // type=raw
  {
    name: 'raw: shorthands',
    ...push('dev'),
    tags: ['type=raw,my', 'custom', 'type=raw,value=foo'],
    expected: ['my', 'custom', 'foo'],
  },
  {
    name: 'raw: quoted value with a comma is one field, sanitized',
    ...push('dev'),
    tags: ['type=raw,value="a,{{branch}}"'],
    expected: ['a-dev'],
  },
  {
    name: 'raw: date expression',
    ...push('dev'),
    tags: ["type=raw,value={{date 'YYYY.MM.DD'}}"],
    expected: ['2020.01.10'],
  },
  {
    name: 'raw: commit_date with tz',
    ...push('dev'),
    commitDate: '2019-12-31T23:59:00-02:00',
    tags: ["type=raw,value=c{{commit_date 'YYYYMMDD-HHmm' tz='Europe/Paris'}}"],
    expected: ['c20200101-0259'],
  },
  {
    name: 'raw: base_ref of a pull request',
    event: 'pull_request',
    ref: 'refs/pull/2/merge',
    baseRef: 'master',
    tags: ['type=raw,value=into-{{base_ref}}'],
    expected: ['into-master'],
  },
  {
    name: 'raw: base_ref is empty on a branch push',
    ...push('dev'),
    baseRef: 'x',
    tags: ['type=raw,value=b{{base_ref}}'],
    expected: ['b'],
  },
  // type=sha
  { name: 'sha: long', ...push('dev'), tags: ['type=sha,format=long'], expected: [`sha-${SHA}`] },
  // priority and latest
  {
    name: 'priority: the first tag decides latest=auto',
    ...tag('v1.1.1'),
    tags: ['type=raw,value=foo,priority=1000', 'type=semver,pattern={{version}}'],
    expected: ['foo', '1.1.1'],
  },
  {
    name: 'priority: semver sorts before ref and sha whatever the order',
    ...tag('v1.1.1'),
    tags: ['type=sha', 'type=ref,event=tag', 'type=semver,pattern={{version}}'],
    expected: ['1.1.1', 'v1.1.1', 'sha-860c190', 'latest'],
  },
  // flavor
  {
    name: 'flavor: prefix, not on own-prefixed sha, not on latest',
    ...tag('v1.1.1'),
    tags: ['type=semver,pattern={{version}}', 'type=sha'],
    flavor: ['prefix=foo-'],
    expected: ['foo-1.1.1', 'sha-860c190', 'latest'],
  },
  {
    name: 'flavor: prefix onlatest',
    ...push('dev'),
    tags: ['type=ref,event=branch'],
    flavor: ['latest=true', 'prefix=foo-,onlatest=true'],
    expected: ['foo-dev', 'foo-latest'],
  },
  {
    name: 'flavor: suffix',
    ...tag('v1.1.1'),
    tags: ['type=semver,pattern={{version}}'],
    flavor: ['suffix=-alpine'],
    expected: ['1.1.1-alpine', 'latest'],
  },
  {
    name: 'flavor: suffix onlatest',
    ...tag('v1.1.1'),
    tags: ['type=semver,pattern={{version}}', 'type=raw,value=x,suffix='],
    flavor: ['suffix=-alpine,onlatest=true'],
    expected: ['1.1.1-alpine', 'x', 'latest-alpine'],
  },
  {
    name: 'flavor: rule prefix wins over flavor prefix',
    ...push('dev'),
    tags: ['type=ref,event=branch,prefix=br-'],
    flavor: ['prefix=foo-'],
    expected: ['br-dev'],
  },
  // release tags <project>@<version>
  {
    name: 'release tags: catalog takes its own tag on a commit with two',
    ...tag('orders@0.3.0'),
    tagsAtHead: ['catalog@1.4.2', 'orders@0.3.0'],
    project: 'catalog',
    tags: [...RELEASE_TAG_RULES],
    expected: ['1.4.2', '1.4', '1', 'latest'],
  },
  {
    name: 'release tags: orders takes its own',
    ...tag('orders@0.3.0'),
    tagsAtHead: ['catalog@1.4.2', 'orders@0.3.0'],
    project: 'orders',
    tags: [...RELEASE_TAG_RULES, 'type=ref,event=tag'],
    expected: ['0.3.0', '0.3', '0', 'orders-0.3.0', 'latest'],
  },
  {
    name: 'release tags: a project without a tag on the commit gets none',
    ...tag('orders@0.3.0'),
    tagsAtHead: ['orders@0.3.0'],
    project: 'web',
    tags: [...RELEASE_TAG_RULES, 'type=ref,event=tag', 'type=sha'],
    expected: ['sha-860c190'],
  },
];

describe('docker/metadata-action cases (tags + flavor + context → tags)', () => {
  it.each(cases.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    expect(computeMetadataTags(c.tags, contextFacts(c), { flavor: c.flavor, project: c.project, now: DATE })).toEqual(
      c.expected,
    );
  });
});

describe('refusals name the bad input and the fix', () => {
  const facts = contextFacts({ name: '', ...push('dev'), tags: [], expected: [] });
  it.each([
    [['type=pep440,pattern={{version}}'], [], /type=pep440 is not supported. Use type=semver or type=match/],
    [['type=match'], [], /type=match needs a pattern/],
    [['type=match,pattern=(unclosed'], [], /pattern is not a valid regular expression/],
    [['type=match,pattern=x,group=one'], [], /group "one" is not a number/],
    [['type=raw,value={{nope}}'], [], /unknown expression "\{\{nope\}\}"; available here: .*\{\{branch\}\}/],
    [["type=raw,value={{date 'YYYY' tz='Mars/Olympus'}}"], [], /unknown time zone tz='Mars\/Olympus'/],
    [["type=raw,value={{date 'YYYY' zone='UTC'}}"], [], /unknown attribute zone=/],
    [['type=edge,event=tag'], [], /unknown attribute "event" for type=edge/],
    [['type=raw,a,b'], [], /"a" is not key=value/],
    [['type=sha'], ['latest=maybe'], /latest must be auto, true or false, got "maybe"/],
    [['type=sha'], ['onlatest=true'], /onlatest belongs after prefix= or suffix=/],
    [['type=sha'], ['colour=blue'], /unknown entry "colour"/],
    [['type=sha'], ['prefix'], /"prefix" is not key=value/],
  ])('%j with flavor %j', (rules, flavor, message) => {
    expect(() => computeMetadataTags(rules, facts, { flavor, now: DATE })).toThrow(message);
  });

  it('parses a full flavor', () => {
    expect(parseFlavor(['latest=false', 'prefix=p-,onlatest=true', 'suffix=-s'])).toEqual({
      latest: 'false',
      prefix: 'p-',
      prefixLatest: true,
      suffix: '-s',
      suffixLatest: false,
    });
  });
});

describe('moment date formats', () => {
  it.each([
    ['YYYYMMDD', 'UTC', '20200110'],
    ['dddd, MMMM Do YYYY, h:mm:ss a', 'UTC', 'Friday, January 10th 2020, 12:30:00 am'],
    ['YYYYMMDD-HHmmss', 'Asia/Tokyo', '20200110-093000'],
    ['YYYY-MM-DDTHH:mm:ss.SSSZ', 'America/New_York', '2020-01-09T19:30:00.000-05:00'],
    ['[week]Q X', 'UTC', 'week1 1578616200'],
  ])('%s in %s', (format, tz, expected) => {
    expect(formatMomentDate(DATE, format, tz)).toBe(expected);
  });
});
