import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import * as path from 'node:path';

/** A docker-registry of a test's own: 127.0.0.1, a free port, data under `dir`; stop() ends it by PID. */
export interface LocalRegistry {
  addr: string;
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export async function startLocalRegistry(dir: string): Promise<LocalRegistry> {
  const addr = `127.0.0.1:${await freePort()}`;
  const config = path.join(dir, 'registry.yml');
  writeFileSync(
    config,
    `version: 0.1\nlog:\n  level: warn\nstorage:\n  filesystem:\n    rootdirectory: ${path.join(dir, 'registry-data')}\nhttp:\n  addr: ${addr}\n`,
  );
  const child: ChildProcess = spawn('docker-registry', ['serve', config], { stdio: 'ignore' });
  const until = Date.now() + 20_000;
  for (;;) {
    const ok = await fetch(`http://${addr}/v2/`)
      .then((r) => r.status === 200)
      .catch(() => false);
    if (ok) break;
    if (Date.now() > until || child.exitCode !== null) {
      child.kill('SIGKILL');
      throw new Error(`docker-registry did not answer on ${addr}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    addr,
    stop: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

const sha256 = (body: Buffer) => `sha256:${createHash('sha256').update(body).digest('hex')}`;

async function pushBlob(addr: string, repository: string, body: Buffer): Promise<string> {
  const digest = sha256(body);
  const start = await fetch(`http://${addr}/v2/${repository}/blobs/uploads/`, { method: 'POST' });
  if (start.status !== 202) throw new Error(`blob upload start: ${start.status}`);
  const location = new URL(start.headers.get('location') as string, `http://${addr}`);
  location.searchParams.set('digest', digest);
  const put = await fetch(location, {
    method: 'PUT',
    headers: { 'Content-Type': 'application/octet-stream' },
    body: new Uint8Array(body),
  });
  if (put.status !== 201) throw new Error(`blob upload: ${put.status}`);
  return digest;
}

/**
 * Push a small, valid OCI image (one config, one layer) straight through the distribution API and
 * return its manifest digest: registry tests need an image by content, not a container build.
 */
export async function pushTestImage(
  addr: string,
  repository: string,
  tag: string,
  labels: Record<string, string> = {},
) {
  const layer = Buffer.from(`layer of ${repository}:${tag} ${Date.now()}`);
  const config = Buffer.from(
    JSON.stringify({
      architecture: 'amd64',
      os: 'linux',
      config: { Labels: labels },
      rootfs: { type: 'layers', diff_ids: [sha256(layer)] },
    }),
  );
  const configDigest = await pushBlob(addr, repository, config);
  const layerDigest = await pushBlob(addr, repository, layer);
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: configDigest, size: config.length },
      layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: layerDigest, size: layer.length }],
    }),
  );
  const response = await fetch(`http://${addr}/v2/${repository}/manifests/${tag}`, {
    method: 'PUT',
    headers: { 'Content-Type': 'application/vnd.oci.image.manifest.v1+json' },
    body: new Uint8Array(manifest),
  });
  if (response.status !== 201) throw new Error(`manifest push: ${response.status} ${await response.text()}`);
  return sha256(manifest);
}
