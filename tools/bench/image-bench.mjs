#!/usr/bin/env node
// Image benchmark (prints figures; not a test). Uses a throw-away registry on a free 127.0.0.1 port so
// every service build is cold, then measures a no-change `nx run-many -t image` (expected: no builds)
// and the size of each image's application layers (layers above the base image). Engines run side by
// side in one invocation, each under its own owner (<engine>/<project>) so none reuses another's image;
// docker runs on a private dockerd started here (tools/scripts/docker.sh, fresh state: a cold cache) and
// its own BuildKit (builder "default", --network=host: that dockerd has no bridge), with the base image
// from the registry. Every engine gets the same options. Ratios are to podman.
//   node tools/bench/image-bench.mjs [--projects=catalog,orders,web] [--engines=podman,buildah,docker]
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { gunzipSync } from 'node:zlib';

const root = resolve(import.meta.dirname, '../..');
const arg = (name, fallback) => process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1] ?? fallback;
const projects = arg('projects', 'catalog,orders,web').split(',');
const engines = arg('engines', arg('engine', 'podman,buildah,docker')).split(',');
const storage = ['--storage-driver', process.env.STORAGE_DRIVER ?? 'vfs'];

const freePort = () =>
  new Promise((res, rej) => {
    const s = createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => res(port));
    });
  });

function run(args, env) {
  const started = process.hrtime.bigint();
  return new Promise((res) => {
    const child = spawn('npx', args, {
      cwd: root,
      env: { ...process.env, NX_DAEMON: 'false', NX_TUI: 'false', ...env },
    });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 20 * 60_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      res({ code, out, seconds: Number(process.hrtime.bigint() - started) / 1e9 });
    });
  });
}

const builds = (out) =>
  out
    .split('\n')
    .filter((l) => /\$ ((buildah|podman) .*(bud|build) |(DOCKER_CONFIG=\S+ )?docker buildx build )/.test(l)).length;
const mb = (bytes) => (bytes / 1e6).toFixed(2);

const tmp = mkdtempSync(join(tmpdir(), 'slipway-image-bench-'));
const port = await freePort();
const addr = `127.0.0.1:${port}`;
writeFileSync(
  join(tmp, 'registry.yml'),
  `version: 0.1\nlog:\n  level: warn\nstorage:\n  filesystem:\n    rootdirectory: ${tmp}/data\nhttp:\n  addr: ${addr}\n`,
);
const registry = spawn('docker-registry', ['serve', join(tmp, 'registry.yml')], { stdio: 'ignore' });
const refs = [];
const dockerDir = join(tmp, 'docker');
let dockerStarted = false;
try {
  for (let i = 0; i < 60; i++) {
    try {
      if ((await fetch(`http://${addr}/v2/`)).status === 200) break;
    } catch {
      /* not yet */
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  const localBase = execFileSync(join(root, 'tools/scripts/local-prereqs.sh'), ['--base-only'], { encoding: 'utf8' })
    .trim()
    .replace(/^export NODE_IMAGE=/, '');
  const baseLayers = JSON.parse(
    execFileSync('buildah', [...storage, 'inspect', '--type', 'image', localBase], { encoding: 'utf8' }),
  ).OCIv1.rootfs.diff_ids.length;
  const envOf = { podman: { NODE_IMAGE: localBase }, buildah: { NODE_IMAGE: localBase } };
  if (engines.includes('docker')) {
    const inRegistry = `${addr}/slipway/node-base:${localBase.split(':').pop()}`;
    execFileSync('buildah', [...storage, 'push', '--quiet', '--tls-verify=false', localBase, `docker://${inRegistry}`]);
    const started = execFileSync('bash', [join(root, 'tools/scripts/docker.sh'), 'start'], {
      encoding: 'utf8',
      env: { ...process.env, SLIPWAY_DOCKER_DIR: dockerDir },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    dockerStarted = true;
    const exports = Object.fromEntries([...started.matchAll(/^export ([A-Z_]+)=(.*)$/gm)].map((m) => [m[1], m[2]]));
    envOf.docker = { ...exports, BUILDX_BUILDER: 'default', NODE_IMAGE: inRegistry };
  }
  console.log(`engines ${engines.join(', ')}; base ${localBase} (${baseLayers} layer); registry ${addr}`);

  // Dependencies (build, prune) first, so the cold figures are the image step itself.
  await run(['nx', 'run-many', '-t', 'prune', 'build', '-p', projects.join(','), '--skip-sync'], {
    NODE_IMAGE: localBase,
  });
  const results = {};
  for (const engine of engines) {
    const env = envOf[engine];
    // The same options for every engine, each under its own owner.
    const imageOptions = [
      `--engine=${engine}`,
      `--owner=${engine}`,
      `--registry=${addr}`,
      '--network=host',
      '--skip-sync',
      '--output-style=stream',
    ];
    const cold = {};
    for (const project of projects) {
      const r = await run(['nx', 'run', `${project}:image`, ...imageOptions], env);
      if (r.code !== 0) {
        console.log(`${engine} ${project}: image failed (exit ${r.code})\n${r.out.split('\n').slice(-15).join('\n')}`);
        continue;
      }
      const record = JSON.parse(readFileSync(join(root, 'dist/images', `${project}.json`), 'utf8'));
      for (const tag of record.tags) refs.push(`${record.image}:${tag}`);
      const path = `${engine}/${project}`;
      const manifest = await (
        await fetch(`http://${addr}/v2/${path}/manifests/${record.digest}`, {
          headers: {
            Accept: 'application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json',
          },
        })
      ).json();
      const appLayers = manifest.layers.slice(baseLayers);
      let compressed = 0;
      let uncompressed = 0;
      for (const layer of appLayers) {
        compressed += layer.size;
        const blob = Buffer.from(await (await fetch(`http://${addr}/v2/${path}/blobs/${layer.digest}`)).arrayBuffer());
        uncompressed += layer.mediaType.endsWith('gzip') ? gunzipSync(blob).length : blob.length;
      }
      cold[project] = r.seconds;
      console.log(
        `${engine} ${project}: cold image ${r.seconds.toFixed(1)} s (${builds(r.out)} build), application layers ${appLayers.length}: ${mb(compressed)} MB compressed, ${mb(uncompressed)} MB uncompressed (tar)`,
      );
    }
    const again = await run(['nx', 'run-many', '-t', 'image', '-p', projects.join(','), ...imageOptions], env);
    const reused = (again.out.match(/(^|: )reused /gm) ?? []).length; // nx prefixes streamed lines with the project
    console.log(
      `${engine} no-change nx run-many -t image -p ${projects.join(',')}: ${again.seconds.toFixed(1)} s, ${builds(again.out)} builds, ${reused} reused, exit ${again.code}`,
    );
    results[engine] = { cold, coldTotal: Object.values(cold).reduce((a, b) => a + b, 0), noChange: again.seconds };
  }
  // Side by side, with the ratio to podman (podman = 1.00).
  const ref = results.podman;
  const ratio = (value, base) => (base ? `${(value / base).toFixed(2)}x` : 'n/a');
  console.log(
    `\n${'engine'.padEnd(8)} ${projects.map((p) => `${p} cold`.padEnd(18)).join(' ')} ${'cold total'.padEnd(18)} no-change`,
  );
  for (const [engine, r] of Object.entries(results)) {
    const cells = projects.map((p) =>
      r.cold[p] === undefined
        ? 'failed'.padEnd(18)
        : `${r.cold[p].toFixed(1)} s (${ratio(r.cold[p], ref?.cold[p])})`.padEnd(18),
    );
    console.log(
      `${engine.padEnd(8)} ${cells.join(' ')} ${`${r.coldTotal.toFixed(1)} s (${ratio(r.coldTotal, ref?.coldTotal)})`.padEnd(18)} ${r.noChange.toFixed(1)} s (${ratio(r.noChange, ref?.noChange)})`,
    );
  }
} finally {
  registry.kill('SIGTERM');
  if (dockerStarted)
    execFileSync('bash', [join(root, 'tools/scripts/docker.sh'), 'stop'], {
      env: { ...process.env, SLIPWAY_DOCKER_DIR: dockerDir },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
  if (refs.length) {
    try {
      // docker's images live in its own data root, removed with the temp dir.
      const local = [...new Set(refs)].filter((ref) => !ref.includes(`${addr}/docker/`));
      if (local.length) execFileSync('buildah', [...storage, 'rmi', '-f', ...local], { stdio: 'ignore' });
    } catch {
      /* already gone */
    }
  }
  rmSync(tmp, { recursive: true, force: true });
}
