import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { IMAGE_RECORDS_DIR } from '../../image/record';
import { runProcess } from '../../shared/process';

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
    ...Object.fromEntries(
      environments.map((e) => [`deploy/k8s/overlays/${e}/kustomization.yaml`, overlayFor(services, e)]),
    ),
    ...Object.fromEntries(
      environments.map((e) => [
        `deploy/holds/${e}.json`,
        `${JSON.stringify({ environment: e, holds: [] }, null, 2)}\n`,
      ]),
    ),
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

export async function writeRecord(
  root: string,
  project: string,
  tag: string,
  digestChar: string,
  extra: Record<string, unknown> = {},
): Promise<void> {
  const dir = path.join(root, IMAGE_RECORDS_DIR);
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

/**
 * A real smart-HTTP git server on 127.0.0.1 (port 0): `git http-backend` behind Basic auth with a
 * token. Used to prove token auth works, a wrong token is refused, and the token is never printed.
 */
export async function startGitHttpServer(
  projectRoot: string,
  token: string,
): Promise<{ url: string; close(): Promise<void> }> {
  const http = await import('node:http');
  const { spawn } = await import('node:child_process');
  const server = http.createServer((req, res) => {
    const auth = req.headers.authorization ?? '';
    const expected = `Basic ${Buffer.from(`x-access-token:${token}`).toString('base64')}`;
    if (auth !== expected) {
      res.writeHead(401, { 'WWW-Authenticate': 'Basic realm="slipway-test"' });
      res.end('unauthorized');
      return;
    }
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const child = spawn('git', ['http-backend'], {
      env: {
        ...process.env,
        GIT_PROJECT_ROOT: projectRoot,
        GIT_HTTP_EXPORT_ALL: '1',
        PATH_INFO: url.pathname,
        QUERY_STRING: url.search.slice(1),
        REQUEST_METHOD: req.method ?? 'GET',
        CONTENT_TYPE: req.headers['content-type'] ?? '',
        REMOTE_USER: 'x-access-token',
        REMOTE_ADDR: '127.0.0.1',
        HTTP_CONTENT_ENCODING: String(req.headers['content-encoding'] ?? ''),
      },
    });
    req.pipe(child.stdin);
    let buffer = Buffer.alloc(0);
    let headersDone = false;
    child.stdout.on('data', (chunk: Buffer) => {
      if (headersDone) {
        res.write(chunk);
        return;
      }
      buffer = Buffer.concat([buffer, chunk]);
      const end = buffer.indexOf('\r\n\r\n');
      if (end === -1) return;
      headersDone = true;
      let status = 200;
      for (const line of buffer.subarray(0, end).toString().split('\r\n')) {
        const i = line.indexOf(':');
        const key = line.slice(0, i).trim();
        const value = line.slice(i + 1).trim();
        if (key.toLowerCase() === 'status') status = Number(value.split(' ')[0]);
        else res.setHeader(key, value);
      }
      res.statusCode = status;
      res.write(buffer.subarray(end + 4));
    });
    child.on('close', () => res.end());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const address = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${address.port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** Bundle the bump driver into one CommonJS file so a test can run bumps as separate processes. */
export async function buildBumpDriver(outDir: string): Promise<string> {
  const esbuild = await import('esbuild');
  const outfile = path.join(outDir, 'bump-driver.cjs');
  await esbuild.build({
    entryPoints: [path.join(__dirname, 'bump-driver.ts')],
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    outfile,
    logLevel: 'silent',
  });
  return outfile;
}
