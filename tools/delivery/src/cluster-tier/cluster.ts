import { createHash } from 'node:crypto';
import { existsSync, promises as fs, readFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseClusterEnv } from '../lib/cluster/cluster-env';
import { runProcess, type RunResult } from '../lib/shared/process';

/**
 * Helpers of the cluster tier (*.cluster-spec.ts): this machine's Kubernetes from
 * tools/scripts/cluster.sh, its env file, kubectl against it, and a test image pushed to its registry.
 */
export const WORKSPACE = path.resolve(__dirname, '../../../..');
export const CLUSTER_DIR = process.env['CLUSTER_DIR'] ?? path.join(WORKSPACE, '.local/cluster');
const SCRIPT = path.join(WORKSPACE, 'tools/scripts/cluster.sh');

export async function clusterScript(command: 'start' | 'stop' | 'status'): Promise<RunResult> {
  return runProcess('bash', [SCRIPT, command], { cwd: WORKSPACE, timeoutMs: 300_000 });
}

export function clusterEnv(): Record<string, string> {
  const file = path.join(CLUSTER_DIR, 'env');
  if (!existsSync(file))
    throw new Error(`${file} is missing: the cluster is not running (bash tools/scripts/cluster.sh start)`);
  return parseClusterEnv(readFileSync(file, 'utf8'));
}

export async function kubectl(args: string[], input?: string): Promise<RunResult> {
  const env = clusterEnv();
  return runProcess(env['CLUSTER_KUBECTL'] as string, ['--kubeconfig', env['KUBECONFIG'] as string, ...args], {
    timeoutMs: 120_000,
    input,
  });
}

export async function kubectlOk(args: string[], input?: string): Promise<string> {
  const r = await kubectl(args, input);
  if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')} failed (${r.code}): ${r.stderr || r.stdout}`);
  return r.stdout;
}

const sha256 = (data: Buffer | string) => createHash('sha256').update(data).digest('hex');

/**
 * An OCI image holding Debian's static busybox (the only binary, at /bin/busybox, with its applets as
 * links), pushed to the cluster's registry with skopeo. Returns the reference the node pulls.
 */
export async function pushBusyboxImage(registry: string, name = 'slipway-test/busybox', tag = '1'): Promise<string> {
  const busybox = '/bin/busybox';
  if (!existsSync(busybox)) throw new Error('/bin/busybox is missing: apt-get install busybox-static');
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'slipway-busybox-'));
  try {
    const rootfs = path.join(dir, 'rootfs');
    await fs.mkdir(path.join(rootfs, 'bin'), { recursive: true });
    await fs.mkdir(path.join(rootfs, 'tmp'), { recursive: true });
    await fs.copyFile(busybox, path.join(rootfs, 'bin/busybox'));
    await fs.chmod(path.join(rootfs, 'bin/busybox'), 0o755);
    for (const applet of [
      'sh',
      'httpd',
      'wget',
      'sleep',
      'nslookup',
      'cat',
      'echo',
      'timeout',
      'head',
      'dd',
      'yes',
      'tr',
      'tail',
      'env',
    ]) {
      await fs.symlink('busybox', path.join(rootfs, 'bin', applet));
    }
    const layerTar = path.join(dir, 'layer.tar');
    const tar = await runProcess(
      'tar',
      [
        '--sort=name',
        '--owner=0',
        '--group=0',
        '--numeric-owner',
        '--mtime=@0',
        '-C',
        rootfs,
        '-cf',
        layerTar,
        'bin',
        'tmp',
      ],
      {},
    );
    if (tar.code !== 0) throw new Error(`tar failed: ${tar.stderr}`);
    const layer = await fs.readFile(layerTar);
    const blobs = path.join(dir, 'oci/blobs/sha256');
    await fs.mkdir(blobs, { recursive: true });
    const put = async (data: Buffer | string) => {
      const digest = sha256(data);
      await fs.writeFile(path.join(blobs, digest), data);
      return { digest: `sha256:${digest}`, size: Buffer.byteLength(data) };
    };
    const layerDesc = await put(layer);
    const config = JSON.stringify({
      architecture: 'amd64',
      os: 'linux',
      config: { Env: ['PATH=/bin'], Cmd: ['/bin/sh'] },
      rootfs: { type: 'layers', diff_ids: [layerDesc.digest] },
    });
    const configDesc = await put(config);
    const manifest = JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...configDesc },
      layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', ...layerDesc }],
    });
    const manifestDesc = await put(manifest);
    await fs.writeFile(path.join(dir, 'oci/oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
    await fs.writeFile(
      path.join(dir, 'oci/index.json'),
      JSON.stringify({
        schemaVersion: 2,
        manifests: [
          {
            mediaType: 'application/vnd.oci.image.manifest.v1+json',
            ...manifestDesc,
            annotations: { 'org.opencontainers.image.ref.name': tag },
          },
        ],
      }),
    );
    const ref = `${registry}/${name}:${tag}`;
    const copy = await runProcess(
      'skopeo',
      ['copy', '--quiet', '--dest-tls-verify=false', `oci:${path.join(dir, 'oci')}:${tag}`, `docker://${ref}`],
      { timeoutMs: 120_000 },
    );
    if (copy.code !== 0) throw new Error(`skopeo copy to ${ref} failed: ${copy.stderr}`);
    return ref;
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
}

export async function waitFor<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline)
      throw new Error(`${what}: not within ${timeoutMs} ms${last ? ` (${String(last)})` : ''}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}
