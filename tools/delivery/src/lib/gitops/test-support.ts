import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runProcess } from '../shared/process';

/**
 * Real-git fixtures for the GitOps tests: a bare remote in a temp dir and clones of it holding a
 * minimal deploy/ layout. Test-only; kept beside the code it exercises.
 */
export const digestOf = (c: string) => `sha256:${c.repeat(64).slice(0, 64)}`;

export async function git(cwd: string, args: string[], input?: string): Promise<string> {
  const r = await runProcess('git', args, {
    cwd,
    input,
    env: { ...process.env, LC_ALL: 'C', GIT_TERMINAL_PROMPT: '0' },
    timeoutMs: 60_000,
  });
  if (r.code !== 0) throw new Error(`git ${args.join(' ')} (in ${cwd}) failed: ${r.stderr}`);
  return r.stdout.trim();
}

export function overlayFor(services: string[], env = 'staging'): string {
  return [
    `# ${env} overlay (fixture) — comments and odd spacing must survive the bump`,
    'apiVersion: kustomize.config.k8s.io/v1beta1',
    'kind: Kustomization',
    `namespace: slipway-${env}`,
    '',
    'images:',
    ...services.flatMap((s, i) => [
      `  # ${s}`,
      `  - name: slipway/${s}`,
      `    newName: "127.0.0.1:5000/slipway/${s}"`,
      `    newTag: h-00000000000${i % 10}   # initial`,
      `    digest: ${digestOf(String(i % 10))}`,
      '',
    ]),
    'replicas:',
    '  - name: catalog',
    '    count: 2',
    '',
  ].join('\n');
}

export interface GitOpsFixture {
  dir: string;
  bare: string;
  seed: string;
  clone(name: string): Promise<string>;
  cleanup(): Promise<void>;
}

export async function createGitOpsFixture(
  opts: { services?: string[]; environments?: string[]; extraFiles?: Record<string, string> } = {},
): Promise<GitOpsFixture> {
  const services = opts.services ?? ['catalog', 'orders', 'web'];
  const environments = opts.environments ?? ['local', 'staging', 'production'];
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'slipway-gitops-test-'));
  const bare = path.join(dir, 'remote.git');
  const seed = path.join(dir, 'seed');
  await git(dir, ['init', '--bare', '--quiet', '-b', 'main', bare]);
  await git(dir, ['init', '--quiet', '-b', 'main', seed]);
  await configure(seed);
  const files: Record<string, string> = {
    'README.md': '# gitops fixture\n',
    ...Object.fromEntries(environments.map((e) => [`deploy/k8s/overlays/${e}/kustomization.yaml`, overlayFor(services, e)])),
    ...Object.fromEntries(environments.map((e) => [`deploy/holds/${e}.json`, `${JSON.stringify({ environment: e, holds: [] }, null, 2)}\n`])),
    ...(opts.extraFiles ?? {}),
  };
  for (const [file, content] of Object.entries(files)) {
    await fs.mkdir(path.dirname(path.join(seed, file)), { recursive: true });
    await fs.writeFile(path.join(seed, file), content);
  }
  await git(seed, ['add', '-A']);
  await git(seed, ['commit', '--quiet', '-m', 'chore: seed gitops fixture']);
  await git(seed, ['remote', 'add', 'origin', bare]);
  await git(seed, ['push', '--quiet', 'origin', 'main']);
  return {
    dir,
    bare,
    seed,
    clone: async (name: string) => {
      const target = path.join(dir, name);
      await git(dir, ['clone', '--quiet', bare, target]);
      await configure(target);
      return target;
    },
    cleanup: async () => {
      await runProcess('chattr', ['-R', '-i', dir]).catch(() => undefined);
      await fs.rm(dir, { recursive: true, force: true });
    },
  };
}

async function configure(repo: string): Promise<void> {
  await git(repo, ['config', 'user.name', 'Fixture Dev']);
  await git(repo, ['config', 'user.email', 'dev@fixture.test']);
  await git(repo, ['config', 'commit.gpgsign', 'false']);
}

export async function writeRecord(root: string, project: string, tag: string, digestChar: string, extra: Record<string, unknown> = {}): Promise<void> {
  const dir = path.join(root, 'dist/images');
  await fs.mkdir(dir, { recursive: true });
  const record = {
    project,
    image: `127.0.0.1:5000/slipway/${project}`,
    tags: ['sha-1a2b3c4', 'main', tag],
    digest: digestOf(digestChar),
    contentTag: tag,
    revision: '1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b',
    version: '0.0.1',
    builtAt: new Date(0).toISOString(),
    reused: false,
    engine: 'buildah',
    ...extra,
  };
  await fs.writeFile(path.join(dir, `${project}.json`), `${JSON.stringify(record, null, 2)}\n`);
}

/** Every tracked-or-not file under `dir/sub` with its content, to prove "no file changed". */
export async function snapshot(dir: string, sub = 'deploy'): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const walk = async (d: string) => {
    for (const entry of await fs.readdir(d, { withFileTypes: true })) {
      const p = path.join(d, entry.name);
      if (entry.isDirectory()) await walk(p);
      else out[path.relative(dir, p)] = await fs.readFile(p, 'utf8');
    }
  };
  await walk(path.join(dir, sub));
  return out;
}
