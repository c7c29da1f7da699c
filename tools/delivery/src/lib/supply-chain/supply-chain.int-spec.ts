/**
 * The real cosign and syft (built by setup.sh at their pinned versions) against a real registry
 * (docker-registry on a free 127.0.0.1 port, data in a temp dir, stopped by PID at the end), with
 * images assembled by buildah: sign → verify passes; another image pushed under the same tag →
 * refused; a signature from a second key → refused; no signature → refused; the SBOM attestation
 * lists the app's npm dependencies (fastify with its version). And the bad inputs: missing key,
 * wrong password, unreachable registry, unknown trust policy: clear errors, no secret printed.
 */
import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { DeliveryInputError } from '../shared/errors';
import { CosignCli } from './cosign';
import { createImageGate } from './gate';
import { signImage } from './sign-image';
import { SyftCli } from './syft';
import { resolveTool } from './tools';
import { PROVENANCE_PREDICATE_TYPE, SBOM_PREDICATE_TYPE, type SigningIdentity } from './types';

const WORKSPACE = resolve(__dirname, '../../../../..');
const STORAGE = ['--storage-driver', 'vfs'];
const PASSWORD = `pw-${process.pid}-${Date.now().toString(36)}-secret`;
const OTHER_PASSWORD = `other-${process.pid}-secret`;

let tmp: string;
let registryProcess: ChildProcess | undefined;
let addr: string;
let cosignBin: string;
let ours: SigningIdentity;
let theirs: SigningIdentity;
let root: string;
const built: string[] = [];
const FASTIFY_VERSION = (
  JSON.parse(readFileSync(join(WORKSPACE, 'node_modules/fastify/package.json'), 'utf8')) as { version: string }
).version;

async function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const server = createServer();
    server.once('error', rej);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => res(port));
    });
  });
}

async function waitFor(check: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (await check().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** The catalog app's manifest and its installed fastify, in a from-scratch image: what syft must find. */
function pushImage(ref: string, marker: string): string {
  const ctx = mkdtempSync(join(tmp, 'ctx-'));
  mkdirSync(join(ctx, 'app/node_modules/fastify'), { recursive: true });
  cpSync(join(WORKSPACE, 'apps/catalog/package.json'), join(ctx, 'app/package.json'));
  cpSync(join(WORKSPACE, 'node_modules/fastify/package.json'), join(ctx, 'app/node_modules/fastify/package.json'));
  writeFileSync(join(ctx, 'app/marker.txt'), marker);
  writeFileSync(join(ctx, 'Containerfile'), 'FROM scratch\nCOPY app /app\n');
  execFileSync('buildah', [...STORAGE, 'bud', '--isolation', 'chroot', '-q', '-t', ref, ctx], { stdio: 'pipe' });
  const digestFile = join(ctx, 'digest');
  execFileSync('buildah', [...STORAGE, 'push', '--tls-verify=false', '--digestfile', digestFile, ref], {
    stdio: 'pipe',
  });
  built.push(ref);
  return readFileSync(digestFile, 'utf8').trim();
}

function keyPair(dir: string, password: string): SigningIdentity {
  mkdirSync(dir, { recursive: true });
  execFileSync(cosignBin, ['generate-key-pair'], {
    cwd: dir,
    env: { ...process.env, COSIGN_PASSWORD: password },
    stdio: 'pipe',
  });
  return { kind: 'key', keyFile: join(dir, 'cosign.key'), publicKeyFile: join(dir, 'cosign.pub'), password };
}

function tools() {
  const cosign = new CosignCli({ binary: cosignBin });
  return {
    signer: cosign,
    verifier: cosign,
    sbom: new SyftCli({ binary: resolveTool('syft', { workspaceRoot: WORKSPACE }) }),
  };
}

async function sign(image: string, digest: string, identity: SigningIdentity, logs: string[] = [], reused = false) {
  return signImage(
    {
      image,
      digest,
      identity,
      reused,
      provenance: {
        project: 'catalog',
        repository: 'https://github.com/example-org/slipway',
        revision: 'a'.repeat(40),
        workflow: 'nx run catalog:image',
        builder: 'slipway-image-executor on test',
        engine: 'buildah',
        contentTag: 'h-0123456789ab',
        startedOn: new Date().toISOString(),
      },
    },
    { ...tools(), log: (l) => logs.push(l), now: () => new Date() },
  );
}

/** A workspace root with a trust policy file naming our public key. */
function trustRoot(publicKeyFile: string): string {
  const dir = mkdtempSync(join(tmp, 'ws-'));
  mkdirSync(join(dir, 'deploy'));
  mkdirSync(join(dir, 'tools/scripts'), { recursive: true });
  cpSync(join(WORKSPACE, 'tools/scripts/supply-chain-tools.txt'), join(dir, 'tools/scripts/supply-chain-tools.txt'));
  writeFileSync(
    join(dir, 'deploy/trust-policies.json'),
    JSON.stringify({ policies: { 'local-key': { publicKey: publicKeyFile } } }),
  );
  return dir;
}

function gate(logs: string[] = []) {
  return createImageGate({ workspaceRoot: root, trustPolicy: 'local-key', log: (l) => logs.push(l) }).gate;
}

async function refusal(promise: Promise<unknown>): Promise<string> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(Error);
  return (error as Error).message;
}

beforeAll(async () => {
  cosignBin = resolveTool('cosign', { workspaceRoot: WORKSPACE });
  tmp = mkdtempSync(join(tmpdir(), 'slipway-supply-chain-it-'));
  addr = `127.0.0.1:${await freePort()}`;
  const config = join(tmp, 'registry.yml');
  writeFileSync(
    config,
    `version: 0.1\nlog:\n  level: warn\nstorage:\n  filesystem:\n    rootdirectory: ${join(tmp, 'registry')}\nhttp:\n  addr: ${addr}\n`,
  );
  registryProcess = spawn('docker-registry', ['serve', config], { stdio: 'ignore' });
  await waitFor(async () => (await fetch(`http://${addr}/v2/`)).status === 200, 15_000, 'the test registry');
  ours = keyPair(join(tmp, 'ours'), PASSWORD);
  theirs = keyPair(join(tmp, 'theirs'), OTHER_PASSWORD);
  root = trustRoot(ours.kind === 'key' ? ours.publicKeyFile : '');
}, 120_000);

afterAll(() => {
  for (const ref of built) spawn('buildah', [...STORAGE, 'rmi', '-f', ref], { stdio: 'ignore' });
  if (registryProcess?.pid) process.kill(registryProcess.pid, 'SIGTERM');
  rmSync(tmp, { recursive: true, force: true });
});

describe('signing and verifying with cosign and syft against a real registry', () => {
  it('sign → the deploy gate verifies; the SBOM lists fastify with its version; a reused image is verified, not re-signed', async () => {
    const image = `${addr}/slipway/catalog`;
    const digest = pushImage(`${image}:h-0123456789ab`, 'one');
    const logs: string[] = [];
    const record = await sign(image, digest, ours, logs);
    expect(record.signature).toEqual({
      reference: `${image}:${digest.replace(':', '-')}.sig`,
      signer: `key ${ours.kind === 'key' ? ours.publicKeyFile : ''}`,
      signedThisRun: true,
    });
    // cosign's own tag scheme: the .sig and .att artifacts are really in the registry.
    for (const suffix of ['sig', 'att']) {
      const response = await fetch(
        `http://${addr}/v2/slipway/catalog/manifests/${digest.replace(':', '-')}.${suffix}`,
        {
          method: 'HEAD',
          headers: { Accept: 'application/vnd.oci.image.manifest.v1+json' },
        },
      );
      expect(response.status).toBe(200);
    }
    const [verified] = await gate()({ catalog: `${image}:h-0123456789ab@${digest}` });
    expect(verified).toMatchObject({ project: 'catalog', digest, ok: true, problems: [] });

    const sbom = await new CosignCli({ binary: cosignBin }).verifyAttestation(
      `${image}@${digest}`,
      { kind: 'key', name: 'local-key', publicKeyFile: (ours as { publicKeyFile: string }).publicKeyFile },
      SBOM_PREDICATE_TYPE,
    );
    expect(sbom.ok).toBe(true);
    const packages =
      (sbom.statements[0]?.predicate as { packages?: { name: string; versionInfo?: string }[] }).packages ?? [];
    expect(packages).toEqual(
      expect.arrayContaining([expect.objectContaining({ name: 'fastify', versionInfo: FASTIFY_VERSION })]),
    );
    const provenance = await new CosignCli({ binary: cosignBin }).verifyAttestation(
      `${image}@${digest}`,
      { kind: 'key', name: 'local-key', publicKeyFile: (ours as { publicKeyFile: string }).publicKeyFile },
      PROVENANCE_PREDICATE_TYPE,
    );
    expect(provenance.statements[0]?.predicate).toMatchObject({
      buildDefinition: {
        externalParameters: { repository: 'https://github.com/example-org/slipway', revision: 'a'.repeat(40) },
      },
      runDetails: { builder: { id: 'slipway-image-executor on test' } },
    });

    const again: string[] = [];
    const reused = await sign(image, digest, ours, again, true);
    expect(reused.signature.signedThisRun).toBe(false);
    expect(again.join('\n')).toMatch(/already signed .* not signed again/);
  });

  it('another image pushed under the same tag since signing: refused, naming both digests', async () => {
    const image = `${addr}/slipway/orders`;
    const signed = pushImage(`${image}:h-1111111111aa`, 'signed');
    await sign(image, signed, ours);
    const moved = pushImage(`${image}:h-1111111111aa`, 'moved');
    expect(moved).not.toBe(signed);
    const message = await refusal(gate()({ orders: `${image}:h-1111111111aa@${signed}` }));
    expect(message).toContain(`orders: ${image}:h-1111111111aa digest ${signed}`);
    expect(message).toContain(`tag h-1111111111aa now points at ${moved}, not at the signed ${signed}`);
    // The moved content itself carries no signature at all.
    expect(await refusal(gate()({ orders: `${image}:h-1111111111aa@${moved}` }))).toContain(
      `digest ${moved}: no signature`,
    );
  });

  it('signed by a second key: refused as not signed by the trusted key', async () => {
    const image = `${addr}/slipway/web`;
    const digest = pushImage(`${image}:h-2222222222bb`, 'theirs');
    await sign(image, digest, theirs);
    const message = await refusal(gate()({ web: `${image}:h-2222222222bb@${digest}` }));
    expect(message).toContain(`web: ${image}:h-2222222222bb digest ${digest}: no signature from the trusted signer`);
    expect(message).toContain("trust policy 'local-key'");
  });

  it('no signature: refused, naming image, digest and the missing signature', async () => {
    const image = `${addr}/slipway/unsigned`;
    const digest = pushImage(`${image}:h-3333333333cc`, 'unsigned');
    const message = await refusal(gate()({ unsigned: `${image}:h-3333333333cc@${digest}` }));
    expect(message).toMatch(
      new RegExp(`unsigned: ${image}:h-3333333333cc digest ${digest}: no signature \\(no signatures found\\)`),
    );
  });

  describe('bad input', () => {
    it('a wrong key password: clear error before signing, the password never printed', async () => {
      const cosign = new CosignCli({ binary: cosignBin });
      const wrong = { ...(ours as Extract<SigningIdentity, { kind: 'key' }>), password: `${PASSWORD}-wrong` };
      const error = await cosign.preflight(wrong).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(DeliveryInputError);
      expect((error as Error).message).toMatch(
        /password for signing key .*cosign.key is wrong[\s\S]*SLIPWAY_COSIGN_PASSWORD/,
      );
      expect((error as Error).message).not.toContain(PASSWORD);
      await expect(cosign.preflight(ours)).resolves.toBeUndefined();
    });

    it('an unreadable key: cosign says so, nothing signed', async () => {
      const broken = join(tmp, 'broken');
      mkdirSync(broken);
      writeFileSync(join(broken, 'cosign.key'), 'not a key');
      const error = await new CosignCli({ binary: cosignBin })
        .preflight({
          kind: 'key',
          keyFile: join(broken, 'cosign.key'),
          publicKeyFile: join(broken, 'cosign.pub'),
          password: PASSWORD,
        })
        .catch((e: unknown) => e);
      expect((error as Error).message).toMatch(/cosign can not read signing key .*broken\/cosign.key/);
      expect((error as Error).message).not.toContain(PASSWORD);
    });

    it('an unreachable registry: the gate fails with the registry named and how to start one', async () => {
      const closed = `127.0.0.1:${await freePort()}`;
      const message = await refusal(
        gate()({ catalog: `${closed}/slipway/catalog:h-0123456789ab@sha256:${'a'.repeat(64)}` }),
      );
      expect(message).toContain(`Registry ${closed} is unreachable`);
    });

    it('an unknown trust policy name: listed alternatives, before anything runs', () => {
      expect(() => createImageGate({ workspaceRoot: root, trustPolicy: 'prod', log: () => undefined })).toThrow(
        /unknown trust policy 'prod'[\s\S]*use one of local-key/,
      );
    });
  });
});
