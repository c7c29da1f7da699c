#!/usr/bin/env node
// Image benchmark (prints figures; not a test). Uses a throw-away registry on a free 127.0.0.1 port so
// every service build is cold, then measures a no-change `nx run-many -t image` (expected: no builds)
// and the size of each image's application layers (layers above the base image). Supply chain (same
// run): each cold build is unsigned (--signing=none); then the image target signs the pushed digest
// and attests SBOM + provenance (the added time), runs again on the signed image (verify only, not
// re-signed), and the deploy's verify gate checks every image against a trust policy naming the key.
// Needs the local key (tools/scripts/local-signing-key.sh) and cosign + syft (setup.sh).
//   node tools/bench/image-bench.mjs [--projects=catalog,orders,web] [--engine=buildah]
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { gunzipSync } from 'node:zlib';

const root = resolve(import.meta.dirname, '../..');
const arg = (name, fallback) => process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1] ?? fallback;
const projects = arg('projects', 'catalog,orders,web').split(',');
const engine = arg('engine', 'buildah');
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

const builds = (out) => out.split('\n').filter((l) => /\$ (buildah|podman) .*(bud|build) /.test(l)).length;
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
try {
  for (let i = 0; i < 60; i++) {
    try {
      if ((await fetch(`http://${addr}/v2/`)).status === 200) break;
    } catch {
      /* not yet */
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  const nodeImage = execFileSync(join(root, 'tools/scripts/local-prereqs.sh'), ['--base-only'], { encoding: 'utf8' })
    .trim()
    .replace(/^export NODE_IMAGE=/, '');
  const env = { NODE_IMAGE: nodeImage };
  const baseLayers = JSON.parse(
    execFileSync('buildah', [...storage, 'inspect', '--type', 'image', nodeImage], { encoding: 'utf8' }),
  ).OCIv1.rootfs.diff_ids.length;
  console.log(`engine ${engine}, base ${nodeImage} (${baseLayers} layer), registry ${addr}`);

  // Dependencies (build, prune) first, so the cold figures are the image step itself.
  await run(['nx', 'run-many', '-t', 'prune', 'build', '-p', projects.join(','), '--skip-sync'], env);
  const figures = [];
  for (const project of projects) {
    const r = await run(
      [
        'nx',
        'run',
        `${project}:image`,
        `--engine=${engine}`,
        `--registry=${addr}`,
        '--signing=none',
        '--skip-sync',
        '--output-style=stream',
      ],
      env,
    );
    if (r.code !== 0) {
      console.log(`${project}: image failed (exit ${r.code})\n${r.out.split('\n').slice(-15).join('\n')}`);
      continue;
    }
    const record = JSON.parse(readFileSync(join(root, 'dist/images', `${project}.json`), 'utf8'));
    for (const tag of record.tags) refs.push(`${record.image}:${tag}`);
    const manifest = await (
      await fetch(`http://${addr}/v2/slipway/${project}/manifests/${record.digest}`, {
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
      const blob = Buffer.from(
        await (await fetch(`http://${addr}/v2/slipway/${project}/blobs/${layer.digest}`)).arrayBuffer(),
      );
      uncompressed += layer.mediaType.endsWith('gzip') ? gunzipSync(blob).length : blob.length;
    }
    figures.push({
      project,
      seconds: r.seconds,
      builds: builds(r.out),
      appLayers: appLayers.length,
      compressed,
      uncompressed,
    });
    console.log(
      `${project}: cold image ${r.seconds.toFixed(1)} s (${builds(r.out)} build), application layers ${appLayers.length}: ${mb(compressed)} MB compressed, ${mb(uncompressed)} MB uncompressed (tar)`,
    );
  }
  const again = await run(
    [
      'nx',
      'run-many',
      '-t',
      'image',
      '-p',
      projects.join(','),
      `--engine=${engine}`,
      `--registry=${addr}`,
      '--skip-sync',
      '--output-style=stream',
    ],
    env,
  );
  const reused = (again.out.match(/^reused /gm) ?? []).length;
  console.log(
    `no-change nx run-many -t image -p ${projects.join(',')}: ${again.seconds.toFixed(1)} s, ${builds(again.out)} builds, ${reused} reused, exit ${again.code}`,
  );

  // Supply chain: sign + SBOM + provenance on the pushed digest, then the reused (already signed) case.
  const signArgs = (project) => [
    'nx',
    'run',
    `${project}:image`,
    `--engine=${engine}`,
    `--registry=${addr}`,
    '--signing=key',
    '--skip-sync',
    '--output-style=stream',
  ];
  const stepMs = (out, word) => Number(new RegExp(`^${word} .*\\((\\d+) ms`, 'm').exec(out)?.[1] ?? NaN);
  for (const figure of figures) {
    const signed = await run(signArgs(figure.project), env);
    const again = await run(signArgs(figure.project), env);
    const signMs = stepMs(signed.out, 'signed');
    const verifyMs = stepMs(again.out, 'verified');
    console.log(
      `${figure.project}: unsigned cold build ${figure.seconds.toFixed(1)} s; sign + SBOM + provenance added ${(signMs / 1000).toFixed(1)} s (goal <= 10 s; whole reuse+sign run ${signed.seconds.toFixed(1)} s, exit ${signed.code}); reused already-signed image verified in ${(verifyMs / 1000).toFixed(2)} s, not re-signed (goal <= 1 s; whole run ${again.seconds.toFixed(1)} s, exit ${again.code})`,
    );
    if (signed.code !== 0 || again.code !== 0) console.log(signed.out.split('\n').slice(-10).join('\n'));
  }

  // The deploy's verify gate (lib/supply-chain/gate.ts) on every image, as `deploy` runs it before the bump.
  const targets = Object.fromEntries(
    figures.map(({ project }) => {
      const record = JSON.parse(readFileSync(join(root, 'dist/images', `${project}.json`), 'utf8'));
      return [project, `${record.image}:${record.contentTag}@${record.digest}`];
    }),
  );
  const policyRoot = mkdtempSync(join(tmp, 'ws-'));
  execFileSync('mkdir', ['-p', join(policyRoot, 'deploy'), join(policyRoot, 'tools/scripts')]);
  writeFileSync(
    join(policyRoot, 'deploy/trust-policies.json'),
    JSON.stringify({ policies: { bench: { publicKey: join(root, '.local/cosign/cosign.pub') } } }),
  );
  writeFileSync(
    join(policyRoot, 'tools/scripts/supply-chain-tools.txt'),
    readFileSync(join(root, 'tools/scripts/supply-chain-tools.txt'), 'utf8'),
  );
  const gate = await new Promise((res) => {
    const child = spawn(
      process.execPath,
      [
        '-r',
        '@swc-node/register',
        '-e',
        `const { createImageGate } = require(${JSON.stringify(join(root, 'tools/delivery/src/lib/supply-chain/gate.ts'))});
         const started = performance.now();
         createImageGate({ workspaceRoot: process.argv[1], trustPolicy: 'bench', log: () => {} })
           .gate(JSON.parse(process.argv[2]))
           .then((r) => console.log(JSON.stringify({ total: performance.now() - started, results: r })), (e) => { console.error(e.message); process.exit(1); });`,
        policyRoot,
        JSON.stringify(targets),
      ],
      { cwd: root, env: { ...process.env, SWC_NODE_PROJECT: join(root, 'tools/delivery/tsconfig.lib.json') } },
    );
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    child.on('close', (code) => res({ code, out }));
  });
  const parsed = gate.code === 0 ? JSON.parse(gate.out.trim().split('\n').pop()) : undefined;
  if (!parsed) console.log(`verify gate failed:\n${gate.out}`);
  else
    console.log(
      `deploy verify gate, ${parsed.results.length} images in parallel: ${(parsed.total / 1000).toFixed(2)} s in all; per image ${parsed.results.map((r) => `${r.project} ${(r.ms / 1000).toFixed(2)} s ${r.ok ? 'verified' : 'REFUSED'}`).join(', ')} (goal <= 1 s per image)`,
    );
} finally {
  registry.kill('SIGTERM');
  if (refs.length) {
    try {
      execFileSync('buildah', [...storage, 'rmi', '-f', ...new Set(refs)], { stdio: 'ignore' });
    } catch {
      /* already gone */
    }
  }
  rmSync(tmp, { recursive: true, force: true });
}
