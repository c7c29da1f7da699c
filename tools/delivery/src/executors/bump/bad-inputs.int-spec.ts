import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { ExecutorContext } from '@nx/devkit';
import { runBumpExecutor } from './executor';
import type { BumpExecutorSchema } from './schema';
import {
  createGitOpsFixture,
  digestOf,
  git,
  snapshot,
  startGitHttpServer,
  writeRecord,
  type GitOpsFixture,
} from '../../lib/gitops/testing/fixtures';
import { runProcess } from '../../lib/shared/process';

/**
 * Bad input, table-driven, through the executor against real git: each case must fail with a clear
 * message naming the bad value and a fix, exit non-zero, change no file and make no commit (locally
 * or on the remote).
 */
const D = digestOf('a');
const REPO = '127.0.0.1:5000/slipway/catalog';
const OVERLAY = 'deploy/k8s/overlays/staging/kustomization.yaml';

interface Case {
  name: string;
  options: Partial<BumpExecutorSchema>;
  setup?: (repo: string, fx: GitOpsFixture, server: { url: string }) => Promise<string | void>;
  teardown?: (repo: string, fx: GitOpsFixture) => Promise<void>;
  env?: Record<string, string>;
  error: RegExp;
}

async function commitFile(repo: string, file: string, content: string): Promise<void> {
  await fs.writeFile(path.join(repo, file), content);
  // Local commit only: the shared bare remote stays pristine for the other cases.
  await git(repo, ['commit', '--quiet', '-am', `test: ${file}`]);
}

async function editOverlay(repo: string, edit: (s: string) => string): Promise<void> {
  const p = path.join(repo, OVERLAY);
  const before = await fs.readFile(p, 'utf8');
  const after = edit(before);
  if (after === before) throw new Error('fixture edit did not apply');
  await fs.writeFile(p, after);
  await git(repo, ['commit', '--quiet', '-am', 'test: overlay edit']);
}

const set = (value: string) => ({ set: [value] });

const cases: Case[] = [
  {
    name: 'unknown environment',
    options: { environment: 'stagign', ...set(`catalog=${REPO}:h-0123456789ab@${D}`) },
    error: /unknown environment 'stagign'.*[\s\S]*fix: use one of: local, production, staging/,
  },
  {
    name: 'environment name with capitals',
    options: { environment: 'Staging', ...set(`catalog=${REPO}:h-0123456789ab@${D}`) },
    error: /environment 'Staging' is not a valid name/,
  },
  {
    name: 'environment name with shell characters',
    options: { environment: 'prod;id', ...set(`catalog=${REPO}:h-0123456789ab@${D}`) },
    error: /environment 'prod;id' is not a valid name/,
  },
  {
    name: 'image not in the overlay',
    options: set(`payments=127.0.0.1:5000/slipway/payments:h-0123456789ab@${D}`),
    error: /image 'payments' \(--set payments\) is not in the staging overlay.*it has: catalog, orders, web/,
  },
  {
    name: 'digest too short',
    options: set(`catalog=${REPO}:h-0123456789ab@sha256:abc`),
    error: /digest 'sha256:abc' is not 'sha256:' followed by 64/,
  },
  {
    name: 'digest in upper case',
    options: set(`catalog=${REPO}:h-0123456789ab@sha256:${'A'.repeat(64)}`),
    error: new RegExp(`digest 'sha256:${'A'.repeat(64)}'`),
  },
  {
    name: 'digest with another algorithm',
    options: set(`catalog=${REPO}:h-0123456789ab@md5:${'a'.repeat(32)}`),
    error: /digest 'md5:a{32}'/,
  },
  {
    name: 'reference without digest',
    options: set(`catalog=${REPO}:h-0123456789ab`),
    error: /'127\.0\.0\.1:5000\/slipway\/catalog:h-0123456789ab' has no digest/,
  },
  {
    name: 'reference without tag',
    options: set(`catalog=${REPO}@${D}`),
    error: /has no tag; the bump pins tag and digest together/,
  },
  {
    name: "tag 'latest'",
    options: set(`catalog=${REPO}:latest@${D}`),
    error: /tag 'latest' in '.*:latest@sha256:a{64}' moves/,
  },
  {
    name: 'tag with spaces',
    options: set(`catalog=${REPO}:bad tag@${D}`),
    error: /tag 'bad tag' is not a valid OCI tag/,
  },
  { name: 'tag with ;', options: set(`catalog=${REPO}:v1;id@${D}`), error: /tag 'v1;id' is not a valid OCI tag/ },
  { name: 'tag with $()', options: set(`catalog=${REPO}:$(id)@${D}`), error: /tag '\$\(id\)' is not a valid OCI tag/ },
  {
    name: 'tag with a backtick',
    options: set(`catalog=${REPO}:\`id\`@${D}`),
    error: /tag '`id`' is not a valid OCI tag/,
  },
  { name: 'tag with a pipe', options: set(`catalog=${REPO}:a|b@${D}`), error: /tag 'a\|b' is not a valid OCI tag/ },
  {
    name: 'tag longer than 128',
    options: set(`catalog=${REPO}:${'t'.repeat(129)}@${D}`),
    error: /tag 't{129}' is not a valid OCI tag.*at most 128/,
  },
  {
    name: 'repository in upper case',
    options: set(`catalog=127.0.0.1:5000/Slipway/catalog:h-0123456789ab@${D}`),
    error: /'Slipway' is not a valid repository path component/,
  },
  {
    name: 'repository with a space',
    options: set(`catalog=127.0.0.1:5000/slip way/catalog:h-0123456789ab@${D}`),
    error: /repository contains whitespace/,
  },
  {
    name: '--set without =',
    options: set(`catalog:${REPO}:h-0123456789ab@${D}`),
    error: /--set 'catalog:127\.0\.0\.1.*' is not <project>=<repository>:<tag>@<digest>/,
  },
  {
    name: '--set with an invalid project',
    options: set(`Cat alog=${REPO}:h-0123456789ab@${D}`),
    error: /project 'Cat alog' is not a valid project name/,
  },
  {
    name: 'same project twice',
    options: { set: [`catalog=${REPO}:h-0123456789ab@${D}`, `catalog=${REPO}:h-bbbbbbbbbbbb@${D}`] },
    error: /project 'catalog' is given twice/,
  },
  {
    name: 'no image records',
    options: {},
    error: /no image records: dist\/images does not exist[\s\S]*fix: build images first/,
  },
  {
    name: 'image record is not JSON',
    options: {},
    setup: async (repo) => {
      await fs.mkdir(path.join(repo, 'dist/images'), { recursive: true });
      await fs.writeFile(path.join(repo, 'dist/images/catalog.json'), '{"project": "catalog",');
    },
    error: /dist\/images\/catalog\.json is not valid JSON/,
  },
  {
    name: 'image record with a bad digest',
    options: {},
    setup: (repo) => writeRecord(repo, 'catalog', 'h-0123456789ab', 'a', { digest: 'sha256:nothex' }),
    error: /image record dist\/images\/catalog\.json is invalid: digest 'sha256:nothex'/,
  },
  {
    name: 'image record without contentTag',
    options: {},
    setup: (repo) => writeRecord(repo, 'catalog', 'h-0123456789ab', 'a', { contentTag: undefined }),
    error: /image record dist\/images\/catalog\.json is invalid: contentTag is missing/,
  },
  {
    name: '--projects names a project without a record',
    options: { projects: ['orders'] },
    setup: (repo) => writeRecord(repo, 'catalog', 'h-0123456789ab', 'a'),
    error: /no image record for project 'orders' in dist\/images/,
  },
  {
    name: 'sha tag preferred but the record has none',
    options: { tagPreference: 'sha' },
    setup: (repo) => writeRecord(repo, 'catalog', 'h-0123456789ab', 'a', { tags: ['h-0123456789ab'] }),
    error: /has no sha-<hex> tag \(tags: h-0123456789ab\)/,
  },
  {
    name: 'YAML anchor in the images list',
    options: set(`catalog=${REPO}:h-0123456789ab@${D}`),
    setup: (repo) =>
      editOverlay(repo, (s) =>
        s
          .replace('  - name: slipway/catalog\n', '  - &cat\n    name: slipway/catalog\n')
          .replace('replicas:\n', 'extra: *cat\nreplicas:\n'),
      ),
    error: /kustomization\.yaml:\d+: the images: list uses a YAML anchor \(&cat\)/,
  },
  {
    name: 'duplicate keys in the overlay',
    options: set(`catalog=${REPO}:h-0123456789ab@${D}`),
    setup: (repo) =>
      editOverlay(repo, (s) =>
        s.replace(
          '    newTag: h-000000000000   # initial\n',
          '    newTag: h-000000000000   # initial\n    newTag: h-111111111111\n',
        ),
      ),
    error: /kustomization\.yaml:\d+:\d+: duplicate key/,
  },
  {
    name: 'images: is not a list',
    options: set(`catalog=${REPO}:h-0123456789ab@${D}`),
    setup: (repo) => editOverlay(repo, (s) => s.replace(/images:\n[\s\S]*?replicas:/, 'images: {}\nreplicas:')),
    error: /images: is not a list/,
  },
  {
    name: 'newTag written as a block scalar',
    options: set(`catalog=${REPO}:h-0123456789ab@${D}`),
    setup: (repo) =>
      editOverlay(repo, (s) =>
        s.replace('    newTag: h-000000000000   # initial\n', '    newTag: |\n      h-000000000000\n'),
      ),
    error: /images\[0\] \(slipway\/catalog\)\.newTag is not a single-line scalar/,
  },
  {
    name: 'overlay file not writable',
    options: set(`catalog=${REPO}:h-0123456789ab@${D}`),
    setup: async (repo) => {
      const r = await runProcess('chattr', ['+i', path.join(repo, OVERLAY)]);
      if (r.code !== 0) await fs.chmod(path.join(repo, OVERLAY), 0o444);
    },
    teardown: async (repo) => void (await runProcess('chattr', ['-i', path.join(repo, OVERLAY)])),
    error: /kustomization\.yaml \(or its folder\) is not writable by this user/,
  },
  {
    name: 'not a git repository',
    options: set(`catalog=${REPO}:h-0123456789ab@${D}`),
    setup: async (repo) => {
      const plain = await fs.mkdtemp(path.join(os.tmpdir(), 'slipway-not-git-'));
      await fs.cp(path.join(repo, 'deploy'), path.join(plain, 'deploy'), { recursive: true });
      return plain;
    },
    error: /slipway-not-git-\w+ is not a git repository \(work tree\)/,
  },
  {
    name: 'detached HEAD',
    options: set(`catalog=${REPO}:h-0123456789ab@${D}`),
    setup: (repo) => git(repo, ['checkout', '--quiet', '--detach']).then(() => undefined),
    error: /HEAD is detached at [0-9a-f]{12}[\s\S]*fix: check out the branch/,
  },
  {
    name: 'push rejected for authentication',
    options: set(`catalog=${REPO}:h-0123456789ab@${D}`),
    env: { GITOPS_TOKEN: 'definitely-wrong-token' },
    setup: (repo, _fx, server) =>
      git(repo, ['remote', 'set-url', 'origin', `${server.url}/remote.git`]).then(() => undefined),
    error: /push to origin \(main\) was refused for authentication/,
  },
  {
    name: 'held project',
    options: set(`catalog=${REPO}:h-0123456789ab@${D}`),
    setup: (repo) =>
      commitFile(
        repo,
        'deploy/holds/staging.json',
        JSON.stringify({
          environment: 'staging',
          holds: [
            { project: 'catalog', reference: 'r/catalog:h-1', reason: 'smoke failed', since: '2026-01-01T00:00:00Z' },
          ],
        }),
      ),
    error: /project 'catalog' is held in staging at r\/catalog:h-1.*refusing to move it[\s\S]*--release-hold/,
  },
  {
    name: 'uncommitted changes in the overlay',
    options: set(`catalog=${REPO}:h-0123456789ab@${D}`),
    setup: (repo) => fs.appendFile(path.join(repo, OVERLAY), '# local edit\n'),
    error: /kustomization\.yaml has uncommitted changes/,
  },
  {
    name: 'remote does not exist',
    options: { ...set(`catalog=${REPO}:h-0123456789ab@${D}`), remote: 'upstream' },
    error: /git remote 'upstream' does not exist/,
  },
  {
    name: 'push declined by the remote',
    options: set(`catalog=${REPO}:h-0123456789ab@${D}`),
    setup: (_repo, fx) =>
      fs.writeFile(path.join(fx.bare, 'hooks/pre-receive'), '#!/bin/sh\necho protected >&2\nexit 1\n', { mode: 0o755 }),
    teardown: (_repo, fx) => fs.rm(path.join(fx.bare, 'hooks/pre-receive')),
    error: /push to origin \(main\) was declined by the remote/,
  },
  {
    name: 'hold file is not JSON',
    options: set(`catalog=${REPO}:h-0123456789ab@${D}`),
    setup: (repo) => commitFile(repo, 'deploy/holds/staging.json', '{ holds: '),
    error: /deploy\/holds\/staging\.json is not valid JSON/,
  },
  {
    name: 'hold file of another environment',
    options: set(`catalog=${REPO}:h-0123456789ab@${D}`),
    setup: (repo) => commitFile(repo, 'deploy/holds/staging.json', '{"environment":"production","holds":[]}'),
    error: /deploy\/holds\/staging\.json is for environment 'production', not 'staging'/,
  },
  {
    name: '--branch differs from the checkout',
    options: { ...set(`catalog=${REPO}:h-0123456789ab@${D}`), branch: 'release' },
    error: /--branch release differs from the checked-out branch main/,
  },
  {
    name: 'helm target without a values path',
    options: {
      ...set(`catalog=${REPO}:h-0123456789ab@${D}`),
      targets: [{ kind: 'helm', file: 'deploy/helm/values.yaml', project: 'catalog' }],
    },
    error: /targets\[0\] \(helm, deploy\/helm\/values\.yaml\) needs "project" and "path"/,
  },
  {
    name: 'target file missing',
    options: {
      ...set(`catalog=${REPO}:h-0123456789ab@${D}`),
      targets: [{ kind: 'marker', file: 'deploy/plain/missing.yaml' }],
    },
    error: /deploy\/plain\/missing\.yaml \(a marker target of 'staging'\) does not exist/,
  },
];

describe('bump executor: bad input changes nothing', () => {
  let fx: GitOpsFixture;
  let server: { url: string; close(): Promise<void> };
  let n = 0;
  beforeAll(async () => {
    fx = await createGitOpsFixture();
    await git(fx.bare, ['config', 'http.receivepack', 'true']);
    server = await startGitHttpServer(fx.dir, 'the-right-token');
  });
  afterAll(async () => {
    await server.close();
    await fx.cleanup();
  });

  it('covers at least 30 distinct bad inputs', () => {
    expect(new Set(cases.map((c) => c.name)).size).toBeGreaterThanOrEqual(30);
  });

  it.each(cases.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    const repo = await fx.clone(`case-${++n}`);
    const root = (await c.setup?.(repo, fx, server)) || repo;
    const isGit = root === repo;
    const before = await snapshot(root);
    const head = isGit ? await git(repo, ['rev-parse', 'HEAD']) : undefined;
    const refs = isGit ? await git(repo, ['for-each-ref', '--format=%(refname) %(objectname)']) : undefined;
    const remoteHead = await git(fx.bare, ['rev-parse', 'main']);
    const errors: string[] = [];
    const spyErr = jest.spyOn(console, 'error').mockImplementation((m: string) => void errors.push(String(m)));
    const spyLog = jest.spyOn(console, 'log').mockImplementation(() => undefined);
    const saved = { ...process.env };
    Object.assign(process.env, c.env ?? {});
    let result;
    try {
      result = await runBumpExecutor(
        { environment: 'staging', ...c.options } as BumpExecutorSchema,
        { root } as ExecutorContext,
      );
    } finally {
      process.env = saved;
      spyErr.mockRestore();
      spyLog.mockRestore();
      await c.teardown?.(repo, fx);
    }
    const output = errors.join('\n');
    expect(result.success).toBe(false);
    expect(output).toMatch(c.error);
    expect(output).toMatch(/fix: \S/);
    expect(output).not.toContain('definitely-wrong-token');
    expect(await snapshot(root)).toEqual(before);
    if (isGit) {
      expect(await git(repo, ['rev-parse', 'HEAD'])).toBe(head);
      expect(await git(repo, ['for-each-ref', '--format=%(refname) %(objectname)'])).toBe(refs);
    } else {
      await fs.rm(root, { recursive: true, force: true });
    }
    expect(await git(fx.bare, ['rev-parse', 'main'])).toBe(remoteHead);
  });
});
