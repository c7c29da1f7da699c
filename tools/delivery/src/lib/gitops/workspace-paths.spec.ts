import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { resolveBumpPaths, resolveWorkspaceFile, workingTreeLookup } from './workspace-paths';

const DEFAULTS = { overlaysDir: 'deploy/k8s/overlays', holdsDir: 'deploy/holds' };

describe('workspace paths', () => {
  let dir: string;
  let root: string;
  beforeEach(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'slipway-paths-'));
    root = path.join(dir, 'repo');
    await fs.mkdir(path.join(root, 'deploy/k8s/overlays/staging'), { recursive: true });
    await fs.mkdir(path.join(root, 'deploy/k8s/shared'), { recursive: true });
    await fs.mkdir(path.join(root, 'deploy/holds'), { recursive: true });
    await fs.writeFile(path.join(root, 'deploy/k8s/shared/k.yaml'), 'images: []\n');
    await fs.writeFile(path.join(dir, 'outside.yaml'), 'images: []\n');
  });
  afterEach(() => fs.rm(dir, { recursive: true, force: true }));

  it('follows a relative symlink inside the workspace to its target', async () => {
    await fs.symlink('../../shared/k.yaml', path.join(root, 'deploy/k8s/overlays/staging/kustomization.yaml'));
    const opts = await resolveBumpPaths({ environment: 'staging' }, await workingTreeLookup(root), DEFAULTS);
    expect(opts.targets).toEqual([{ kind: 'kustomize', file: 'deploy/k8s/shared/k.yaml' }]);
    expect(opts.overlaysDir).toBe('deploy/k8s/overlays');
  });

  it('keeps the default target when the overlay is a plain file or missing', async () => {
    const opts = await resolveBumpPaths({ environment: 'staging' }, await workingTreeLookup(root), DEFAULTS);
    expect(opts.targets).toBeUndefined();
  });

  it('refuses paths and symlinks that leave the workspace, and symlinked folders are followed', async () => {
    const lookup = await workingTreeLookup(root);
    await expect(resolveWorkspaceFile('../outside.yaml', '--x', lookup)).rejects.toThrow(
      /--x '\.\.\/outside\.yaml' leads outside the workspace/,
    );
    await expect(resolveWorkspaceFile(path.join(dir, 'outside.yaml'), '--x', lookup)).rejects.toThrow(/leads outside/);
    await fs.symlink(path.join(dir, 'outside.yaml'), path.join(root, 'deploy/out.yaml'));
    await expect(resolveWorkspaceFile('deploy/out.yaml', '--x', lookup)).rejects.toThrow(
      /deploy\/out\.yaml is a symlink to .*outside\.yaml/,
    );
    await fs.symlink('k8s/shared', path.join(root, 'deploy/alias'));
    expect((await resolveWorkspaceFile('deploy/alias/k.yaml', '--x', lookup)).path).toBe('deploy/k8s/shared/k.yaml');
    expect((await resolveWorkspaceFile(path.join(root, 'deploy/alias/k.yaml'), '--x', lookup)).path).toBe(
      'deploy/k8s/shared/k.yaml',
    );
  });

  it('names a folder where a file belongs, a dangling symlink and a symlink loop', async () => {
    const lookup = await workingTreeLookup(root);
    await expect(resolveWorkspaceFile('deploy/k8s/shared', 'the target', lookup)).rejects.toThrow(
      /the target deploy\/k8s\/shared is a folder, not a file/,
    );
    await fs.symlink('nowhere.yaml', path.join(root, 'deploy/dangling.yaml'));
    await expect(resolveWorkspaceFile('deploy/dangling.yaml', 'the target', lookup)).rejects.toThrow(
      /is a symlink \(deploy\/dangling\.yaml -> nowhere\.yaml\) to deploy\/nowhere\.yaml, which does not exist/,
    );
    await fs.symlink('loop-b', path.join(root, 'deploy/loop-a'));
    await fs.symlink('loop-a', path.join(root, 'deploy/loop-b'));
    await expect(resolveWorkspaceFile('deploy/loop-a', 'the target', lookup)).rejects.toThrow(
      /too many levels of symlinks/,
    );
  });
});
