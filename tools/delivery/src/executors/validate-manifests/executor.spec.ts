import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { ExecutorContext } from '@nx/devkit';
import { runValidateManifestsExecutor } from './executor';

/** Input errors are reported before anything is rendered (the rendering paths run in validate.int-spec.ts). */
describe('validate-manifests executor: bad options', () => {
  let root: string;
  let errors: string[];
  let spy: jest.SpyInstance;
  beforeEach(async () => {
    root = await fs.mkdtemp(path.join(os.tmpdir(), 'slipway-validate-unit-'));
    errors = [];
    spy = jest.spyOn(console, 'error').mockImplementation((m: string) => void errors.push(m));
  });
  afterEach(async () => {
    spy.mockRestore();
    await fs.rm(root, { recursive: true, force: true });
  });

  it('names a missing overlays folder and the option that fixes it', async () => {
    const result = await runValidateManifestsExecutor({ overlaysDir: 'deploy/nope' }, { root } as ExecutorContext);
    expect(result.success).toBe(false);
    expect(errors.join('\n')).toMatch(
      /validate failed: overlays folder .*deploy\/nope does not exist\n {2}fix: pass --overlays-dir/,
    );
  });

  it('refuses an exemption of an unknown policy, listing the known ones', async () => {
    const result = await runValidateManifestsExecutor(
      { exemptions: [{ overlay: 'local', policy: 'no-root', reason: 'x' }] },
      { root } as ExecutorContext,
    );
    expect(result.success).toBe(false);
    expect(errors.join('\n')).toMatch(/unknown policy 'no-root'[\s\S]*fix: use one of: image-pinned, probes/);
  });

  it('refuses an exemption without a reason', async () => {
    const result = await runValidateManifestsExecutor(
      { exemptions: [{ overlay: 'local', policy: 'probes', reason: ' ' }] },
      { root } as ExecutorContext,
    );
    expect(result.success).toBe(false);
    expect(errors.join('\n')).toMatch(/exemption of policy 'probes' for overlay 'local' has no reason/);
  });

  it('names an overlay listed explicitly that has no kustomization', async () => {
    await fs.mkdir(path.join(root, 'deploy/k8s/overlays/staging'), { recursive: true });
    const result = await runValidateManifestsExecutor({ overlays: ['staging'] }, { root } as ExecutorContext);
    expect(result.success).toBe(false);
    expect(errors.join('\n')).toMatch(/deploy\/k8s\/overlays\/staging\/kustomization\.yaml does not exist/);
  });
});
