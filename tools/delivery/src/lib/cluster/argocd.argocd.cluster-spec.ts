import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { ensureArgoCd } from '../../cluster-tier/argocd';
import { KubectlAccess } from './argocd-kubectl';
import { GitOpsCluster } from './gitops';

/**
 * Argo CD for real, beside this machine's cluster (the global setup started both): the application
 * controller and repo-server of tools/scripts/argocd.sh sync an Application from a local `file://`
 * git repository, and the gitops adapter waits for each pushed commit to be Synced and Healthy
 * through the Kubernetes API. A second, throwaway Argo CD (its own namespace and state) proves that
 * `stop` ends every process it started and leaves no state behind.
 */
const ROOT = path.resolve(__dirname, '../../../../..');
const KUBECONFIG = path.join(ROOT, '.local/cluster/kubeconfig');
const SCRIPT = path.join(ROOT, 'tools/scripts/argocd.sh');
const SECONDS = 1000;

function run(program: string, args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}) {
  const r = spawnSync(program, args, { encoding: 'utf8', ...options });
  return { code: r.status ?? 1, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

function ok(program: string, args: string[], cwd?: string): string {
  const r = run(program, args, { cwd });
  if (r.code !== 0) throw new Error(`${program} ${args.join(' ')} failed: ${r.stderr || r.stdout}`);
  return r.stdout.trim();
}

const kubectl = (...args: string[]) => run('kubectl', ['--kubeconfig', KUBECONFIG, ...args]);

function portAnswers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

describe('Argo CD beside the cluster (tools/scripts/argocd.sh)', () => {
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'slipway-argocd-it-'));
  const suffix = process.pid.toString(36);
  const app = `argocd-it-${suffix}`;
  const namespace = `argocd-it-${suffix}`;
  const remote = path.join(tmp, 'remote.git');
  const work = path.join(tmp, 'work');
  const logs: string[] = [];
  const log = (line: string) => logs.push(line);
  const commitConfigMap = (message: string): string => {
    mkdirSync(path.join(work, 'manifests'), { recursive: true });
    writeFileSync(
      path.join(work, 'manifests/configmap.yaml'),
      `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: greeting\ndata:\n  message: ${message}\n`,
    );
    ok('git', ['add', '-A'], work);
    ok('git', ['-c', 'user.name=it', '-c', 'user.email=it@slipway.invalid', 'commit', '-qm', message], work);
    ok('git', ['push', '-q', 'origin', 'HEAD:main'], work);
    return ok('git', ['rev-parse', 'HEAD'], work);
  };

  let stopArgoCd: () => Promise<void> = async () => undefined;

  beforeAll(async () => {
    stopArgoCd = await ensureArgoCd();
    ok('git', ['init', '-q', '--bare', '--initial-branch=main', remote]);
    ok('git', ['clone', '-q', remote, work]);
    await new KubectlAccess({ kubeconfig: KUBECONFIG, argocdNamespace: 'argocd' }).apply([
      {
        apiVersion: 'argoproj.io/v1alpha1',
        kind: 'Application',
        metadata: { name: app, namespace: 'argocd' },
        spec: {
          project: 'default',
          source: { repoURL: `file://${remote}`, targetRevision: 'main', path: 'manifests' },
          destination: { server: 'https://kubernetes.default.svc', namespace },
          syncPolicy: { automated: { prune: true, selfHeal: true }, syncOptions: ['CreateNamespace=true'] },
        },
      },
    ]);
  });

  afterAll(async () => {
    kubectl('delete', 'application', app, '-n', 'argocd', '--ignore-not-found', '--wait=false');
    kubectl('delete', 'namespace', namespace, '--ignore-not-found', '--wait=false');
    rmSync(tmp, { recursive: true, force: true });
    await stopArgoCd();
  });

  it('syncs each pushed commit from a file:// repository: Synced at that commit and Healthy, the object applied', async () => {
    const cluster = new GitOpsCluster({
      app,
      timeoutSeconds: 180,
      access: 'kubectl',
      kubeconfig: KUBECONFIG,
      argocdNamespace: 'argocd',
      pollMs: 250,
    });
    const first = commitConfigMap('v1');
    let started = Date.now();
    const result = await cluster.apply({ projects: [], commit: first, log });
    const firstMs = Date.now() - started;
    expect(result.notes[0]).toMatch(
      new RegExp(`^Argo CD ${app}: Synced at ${first.slice(0, 12)}, Healthy after \\d+\\.\\d s$`),
    );
    expect(JSON.parse(kubectl('get', 'configmap', 'greeting', '-n', namespace, '-o', 'json').stdout).data).toEqual({
      message: 'v1',
    });

    // The next commit: the hard refresh makes Argo CD compare now, not at its next poll (60 s here).
    const second = commitConfigMap('v2');
    started = Date.now();
    await cluster.apply({ projects: [], commit: second, log });
    const secondMs = Date.now() - started;
    expect(JSON.parse(kubectl('get', 'configmap', 'greeting', '-n', namespace, '-o', 'json').stdout).data).toEqual({
      message: 'v2',
    });
    const status = await new KubectlAccess({ kubeconfig: KUBECONFIG, argocdNamespace: 'argocd' }).application(app);
    expect(status.status?.sync).toMatchObject({ status: 'Synced', revision: second });
    expect(status.status?.health?.status).toBe('Healthy');
    expect(secondMs).toBeLessThan(60 * SECONDS);
    process.stdout.write(
      `argocd it: first commit Synced/Healthy in ${(firstMs / 1000).toFixed(1)} s, next commit in ${(secondMs / 1000).toFixed(1)} s\n`,
    );
    expect(
      logs.some((l) => l.startsWith(`waiting for Argo CD application ${app} to be Synced at ${second.slice(0, 12)}`)),
    ).toBe(true);
  });

  it('names a missing application and how to fix it', async () => {
    await expect(
      new KubectlAccess({ kubeconfig: KUBECONFIG, argocdNamespace: 'argocd' }).application(`no-such-${suffix}`),
    ).rejects.toThrow(
      new RegExp(
        `Argo CD application no-such-${suffix} does not exist in namespace argocd .*: apply deploy/argocd, or start Argo CD with bash tools/scripts/argocd.sh start`,
      ),
    );
  });

  it('start is idempotent and stop ends every process it started, leaving no state (a second instance)', async () => {
    const state = path.join(tmp, 'second');
    const env = { ...process.env, ARGOCD_STATE_DIR: state, ARGOCD_NAMESPACE: `argocd-second-${suffix}` };
    try {
      const start = run('bash', [SCRIPT, 'start', '--kubeconfig', KUBECONFIG], { cwd: ROOT, env });
      expect({ code: start.code, err: start.code === 0 ? '' : start.stderr }).toEqual({ code: 0, err: '' });
      expect(start.stderr).toMatch(
        /argocd: ready in \d+ ms: controller, repo-server 127\.0\.0\.1:\d+, redis 127\.0\.0\.1:\d+/,
      );
      const pids = ['controller', 'repo-server', 'redis'].map((c) =>
        Number(readFileSync(path.join(state, `${c}.pid`), 'utf8')),
      );
      const ports = readFileSync(path.join(state, 'env'), 'utf8')
        .split('\n')
        .flatMap((l) => /^ARGOCD_(?:REDIS|REPO_SERVER)=127\.0\.0\.1:(\d+)$/.exec(l)?.[1] ?? [])
        .map(Number);
      expect(ports).toHaveLength(2);
      for (const port of ports) expect(await portAnswers(port)).toBe(true);
      expect(run('bash', [SCRIPT, 'status'], { cwd: ROOT, env }).code).toBe(0);
      const again = run('bash', [SCRIPT, 'start', '--kubeconfig', KUBECONFIG], { cwd: ROOT, env });
      expect(again.stderr).toContain('already running');

      const stop = run('bash', [SCRIPT, 'stop'], { cwd: ROOT, env });
      expect(stop.code).toBe(0);
      expect(stop.stderr).toContain('stopped controller repo-server redis');
      for (const pid of pids) expect(() => process.kill(pid, 0)).toThrow();
      for (const port of ports) expect(await portAnswers(port)).toBe(false);
      for (const left of ['controller.pid', 'repo-server.pid', 'redis.pid', 'env', 'tmp', 'bin', 'redis'])
        expect(existsSync(path.join(state, left))).toBe(false);
      const status = run('bash', [SCRIPT, 'status'], { cwd: ROOT, env });
      expect(status.code).toBe(1);
      expect(status.stdout).toMatch(/controller\s+not running/);
    } finally {
      run('bash', [SCRIPT, 'stop'], { cwd: ROOT, env });
      kubectl('delete', 'namespace', `argocd-second-${suffix}`, '--ignore-not-found', '--wait=false');
    }
  });

  it('refuses to start without a cluster, naming the fix', () => {
    const missing = run('bash', [SCRIPT, 'start', '--kubeconfig', path.join(tmp, 'nope/kubeconfig')], {
      cwd: ROOT,
      env: { ...process.env, ARGOCD_STATE_DIR: path.join(tmp, 'third') },
    });
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toContain(
      `no kubeconfig at ${path.join(tmp, 'nope/kubeconfig')}: start the cluster first (bash tools/scripts/cluster.sh start) or pass --kubeconfig PATH.`,
    );
    expect(existsSync(path.join(tmp, 'third', 'controller.pid'))).toBe(false);
  });
});
