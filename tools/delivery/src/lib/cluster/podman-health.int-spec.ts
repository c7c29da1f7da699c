import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { workloadWatch } from '../release/workload-health';
import { runProcess } from '../shared/process';
import { runSmoke } from '../smoke/run-smoke';
import { configFrom } from '../smoke/testing/config';
import type { SmokeReport } from '../smoke/types';
import { PodmanCluster } from './podman';
import { kustomizeBuild, parseObjects } from '../manifests/kubernetes';
import { LABEL_INSTANCE } from './render';

/**
 * Real podman, a real registry and real images: workloads that cannot become ready end the smoke
 * readiness wait within seconds with verdict `fail`, the reason and the container's log tail.
 * The image is the host's static busybox in an image of its own (2 MB: builds and pulls in seconds),
 * pushed to a registry of this run (127.0.0.1, free port) and deployed by digest as releases do.
 */
const STORAGE = ['--storage-driver', 'vfs'];
const INSTANCE = `slipway-health-it-${process.pid.toString(16)}`;
const READINESS_TIMEOUT_MS = 120_000;
const WORKSPACE = join(__dirname, '../../../../..');

let tmp = '';
let registryProcess: ChildProcess | undefined;
let registry = '';
let image = '';
let digest = '';
let servicePort = 0;
let cluster: PodmanCluster;
let manifest = '';
const env: NodeJS.ProcessEnv = { ...process.env, SLIPWAY_HEALTH_IT_TOKEN: 'hunter2-secret-value' };

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

async function must(program: string, args: string[], options: { env?: NodeJS.ProcessEnv } = {}): Promise<string> {
  const result = await runProcess(program, args, { timeoutMs: 300_000, ...options });
  if (result.code !== 0) throw new Error(`${program} ${args.join(' ')} failed: ${result.stderr}`);
  return result.stdout.trim();
}

/** One Deployment of the busybox image running `script`, as the overlay would render it. */
function deployment(
  project: string,
  reference: string,
  script: string,
  extra: { memory?: string; env?: Record<string, string>; livenessProbe?: unknown } = {},
): string {
  return stringify({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: project, labels: { 'app.kubernetes.io/name': project } },
    spec: {
      replicas: 1,
      selector: { matchLabels: { 'app.kubernetes.io/name': project } },
      template: {
        metadata: { labels: { 'app.kubernetes.io/name': project } },
        spec: {
          containers: [
            {
              name: project,
              image: reference,
              command: ['/bin/busybox', 'sh', '-c', script],
              ...(extra.env ? { env: Object.entries(extra.env).map(([name, value]) => ({ name, value })) } : {}),
              ...(extra.memory ? { resources: { limits: { memory: extra.memory } } } : {}),
              ...(extra.livenessProbe ? { livenessProbe: extra.livenessProbe } : {}),
            },
          ],
        },
      },
    },
  });
}

/** Deploys `yaml` as `project`, then smokes it as a release does: readiness with the workload watch. */
async function deployAndSmoke(project: string, yaml: string): Promise<{ report: SmokeReport; ms: number }> {
  manifest = yaml;
  await cluster.apply({ overlayDir: tmp, projects: [project], log: () => undefined });
  const started = Date.now();
  const lines: string[] = [];
  const report = await runSmoke(
    configFrom(
      {
        environments: { test: { baseUrl: `http://127.0.0.1:${servicePort}` } },
        readiness: {
          path: '/health/readiness',
          timeoutMs: READINESS_TIMEOUT_MS,
          initialDelayMs: 250,
          maxDelayMs: 5000,
          factor: 2,
        },
      },
      { project },
    ),
    {
      adapters: {
        log: (line) => lines.push(line),
        workload: workloadWatch(cluster, () => tmp, project, env),
      },
    },
  );
  return { report, ms: Date.now() - started };
}

function readiness(report: SmokeReport) {
  const stage = report.stages.find((s) => s.name === 'readiness');
  if (!stage) throw new Error('no readiness stage');
  return stage;
}

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'slipway-health-it-'));
  registry = `127.0.0.1:${await freePort()}`;
  servicePort = await freePort();
  const config = join(tmp, 'registry.yml');
  writeFileSync(
    config,
    `version: 0.1\nlog:\n  level: warn\nstorage:\n  filesystem:\n    rootdirectory: ${join(tmp, 'registry')}\nhttp:\n  addr: ${registry}\n`,
  );
  registryProcess = spawn('docker-registry', ['serve', config], { stdio: 'ignore' });
  const until = Date.now() + 15_000;
  for (;;) {
    const up = await fetch(`http://${registry}/v2/`).then(
      (r) => r.status === 200,
      () => false,
    );
    if (up) break;
    if (Date.now() > until) throw new Error(`the test registry on ${registry} did not start`);
    await new Promise((r) => setTimeout(r, 200));
  }
  image = `${registry}/slipway-health-it/busybox`;
  const container = await must('buildah', [...STORAGE, 'from', 'scratch']);
  await must('buildah', [...STORAGE, 'copy', container, '/bin/busybox', '/bin/busybox']);
  // /bin/sh as in the local base and node:*-alpine: podman runs health checks through it.
  const root = await must('buildah', [...STORAGE, 'mount', container]);
  symlinkSync('busybox', join(root, 'bin/sh'));
  await must('buildah', [...STORAGE, 'unmount', container]);
  await must('buildah', [...STORAGE, 'config', '--entrypoint', '[]', '--cmd', '/bin/busybox sh', container]);
  await must('buildah', [...STORAGE, 'commit', '-q', container, `${image}:it`]);
  await must('buildah', [...STORAGE, 'rm', container]);
  const digestFile = join(tmp, 'digest');
  await must('buildah', [...STORAGE, 'push', '--tls-verify=false', '--digestfile', digestFile, `${image}:it`]);
  digest = readFileSync(digestFile, 'utf8').trim();
  await must('buildah', [...STORAGE, 'rmi', '-f', `${image}:it`]);
  cluster = new PodmanCluster({
    instance: INSTANCE,
    ports: {},
    storageDriver: 'vfs',
    insecureRegistries: [registry],
    workDir: join(tmp, 'podman'),
    render: async () => manifest,
    stopTimeoutSeconds: 1,
  });
}, 300_000);

afterAll(async () => {
  if (cluster) {
    const pods = await cluster.pods().catch(() => []);
    await cluster.down(pods.map((p) => p.Labels?.['slipway.dev/project'] ?? '')).catch(() => undefined);
  }
  // Anything left with our instance label (a test that failed half-way).
  await runProcess('podman', [...STORAGE, 'pod', 'rm', '--force', '--filter', `label=${LABEL_INSTANCE}=${INSTANCE}`], {
    timeoutMs: 120_000,
  }).catch(() => undefined);
  await runProcess('podman', [...STORAGE, 'rmi', '-f', `${image}@${digest}`], { timeoutMs: 120_000 }).catch(
    () => undefined,
  );
  if (registryProcess?.pid) {
    registryProcess.kill('SIGTERM');
    await new Promise((r) => registryProcess?.once('exit', r));
  }
  if (tmp) rmSync(tmp, { recursive: true, force: true });
}, 300_000);

describe('podman workload health ends the readiness wait early, with the reason and the log tail', () => {
  it('a service that exits at start on a configuration error: fail within seconds, its own error line shown', async () => {
    const { report, ms } = await deployAndSmoke(
      'config-error',
      deployment(
        'config-error',
        `${image}@${digest}`,
        'echo "config-error starting (token $SLIPWAY_TOKEN)"; echo "invalid configuration: CATALOG_PAYMENT_URL is required" >&2; exit 1',
        { env: { SLIPWAY_TOKEN: 'hunter2-secret-value' } },
      ),
    );
    const stage = readiness(report);
    expect(report.outcome).toBe('fail');
    expect(stage.status).toBe('fail');
    expect(stage.workload?.reason).toMatch(/^exited 1(, restarted \d+ times?)?$/);
    expect(stage.message).toContain('workload failing');
    expect(stage.workload?.logTail).toContain('invalid configuration: CATALOG_PAYMENT_URL is required');
    expect(stage.workload?.logTail.length).toBeLessThanOrEqual(30);
    // The token is a secret of this process's environment: redacted in the tail.
    expect(JSON.stringify(report)).not.toContain('hunter2-secret-value');
    expect(stage.workload?.logTail.join('\n')).toContain('config-error starting (token ***)');
    expect(ms).toBeLessThan(15_000);
  });

  it('a service that crashes after 5 s: fail soon after the crash, with the exit code', async () => {
    const { report, ms } = await deployAndSmoke(
      'late-crash',
      deployment(
        'late-crash',
        `${image}@${digest}`,
        'echo "late-crash up"; sleep 5; echo "panic: lost the database" >&2; exit 3',
      ),
    );
    const stage = readiness(report);
    expect(report.outcome).toBe('fail');
    // Seen either between the crash and podman's restart, or after it restarted.
    expect(stage.workload?.reason).toMatch(/^exited 3(, restarted \d+ times?)?$/);
    expect(stage.workload?.exitCode).toBe(3);
    expect(stage.workload?.logTail).toEqual(expect.arrayContaining(['late-crash up', 'panic: lost the database']));
    expect(ms).toBeGreaterThanOrEqual(4_000);
    expect(ms).toBeLessThan(20_000);
  });

  it('a service killed for exceeding its memory limit: fail, the limit named', async () => {
    const { report, ms } = await deployAndSmoke(
      'oom',
      deployment('oom', `${image}@${digest}`, 'echo "oom allocating"; exec /bin/busybox tail /dev/zero', {
        memory: '32Mi',
      }),
    );
    const stage = readiness(report);
    expect(report.outcome).toBe('fail');
    // podman 4.3 with runc on cgroup v1 enforces the limit (the kernel kills the process) but does
    // not set State.OOMKilled: the adapter names exit 137 under a memory limit with its possible causes.
    expect(stage.workload?.reason).toMatch(
      /OOM-killed under its 32 MiB memory limit|killed by SIGKILL \(exit 137\) with a 32 MiB memory limit: out of memory/,
    );
    expect(stage.workload?.exitCode).toBe(137);
    expect(stage.workload?.logTail).toContain('oom allocating');
    expect(ms).toBeLessThan(15_000);
  });

  it("a healthy service passes, and the local overlay's liveness probe makes podman report it healthy", async () => {
    // The probe exactly as the local overlay renders it for catalog.
    const rendered = parseObjects(await kustomizeBuild(join(WORKSPACE, 'deploy/k8s/overlays/local')));
    const catalog = rendered.find((o) => o.kind === 'Deployment' && o.metadata?.name === 'catalog') as {
      spec: { template: { spec: { containers: { livenessProbe?: unknown }[] } } };
    };
    const livenessProbe = catalog.spec.template.spec.containers[0]?.livenessProbe;
    expect(livenessProbe).toMatchObject({ exec: { command: expect.arrayContaining(['/bin/busybox', 'wget']) } });
    const { report } = await deployAndSmoke(
      'healthy',
      deployment(
        'healthy',
        `${image}@${digest}`,
        'mkdir -p /www/health && echo ok > /www/health/liveness && echo ok > /www/health/readiness && exec /bin/busybox httpd -f -v -p 127.0.0.1:$PORT -h /www',
        { env: { PORT: String(servicePort) }, livenessProbe },
      ),
    );
    expect(report.outcome).toBe('pass');
    expect(readiness(report).workload).toBeUndefined();
    // A check that ran before httpd listened counts one failure; the next one (10 s period) passes.
    let health = (await cluster.health(tmp, ['healthy']))[0];
    for (const until = Date.now() + 40_000; health?.phase !== 'ready' && Date.now() < until; ) {
      await new Promise((r) => setTimeout(r, 1000));
      health = (await cluster.health(tmp, ['healthy']))[0];
    }
    expect(health).toMatchObject({ project: 'healthy', phase: 'ready', restarts: 0 });
    const ps = await runProcess(
      'podman',
      [...STORAGE, 'ps', '--filter', `label=${LABEL_INSTANCE}=${INSTANCE}`, '--format', '{{.Names}} {{.Status}}'],
      { timeoutMs: 60_000, env: { ...process.env, CONTAINERS_CONF: join(tmp, 'podman/containers.conf') } },
    );
    expect(ps.stdout).toMatch(/healthy-pod-0-healthy Up .* \(healthy\)/);
    await cluster.down(['healthy']);
  });

  it('an image whose digest is not in the registry: the apply fails at once and says so', async () => {
    const missing = `${image}@sha256:${'0123456789abcdef'.repeat(4)}`;
    manifest = deployment('no-image', missing, 'exit 0');
    const started = Date.now();
    await expect(cluster.apply({ overlayDir: tmp, projects: ['no-image'], log: () => undefined })).rejects.toThrow(
      /no-image: image .*@sha256:0123456789abcdef.* not found in the registry/,
    );
    expect(Date.now() - started).toBeLessThan(15_000);
    const [health] = await cluster.health(tmp, ['no-image']);
    expect(health).toMatchObject({
      project: 'no-image',
      phase: 'failing',
      reason: expect.stringMatching(/not found in the registry/),
    });
  });
});
