import { childEnvironment, parseExports } from './images';
import { desiredManifests } from './local-gitops';
import { digest, overlay } from './testing/fakes';

const FILE = 'deploy/k8s/overlays/local/kustomization.yaml';

describe('local GitOps sync', () => {
  it('takes every manifest from the working tree but keeps the references the local repository pins', () => {
    const source = new Map([
      ['deploy/k8s/base/catalog/deployment.yaml', 'kind: Deployment # edited\n'],
      [
        FILE,
        `# new comment\n${overlay({ catalog: { tag: 'h-000000000000', digest: digest('0') }, orders: { tag: 'h-000000000000', digest: digest('0') } })}`,
      ],
    ]);
    const pinned = overlay({
      catalog: { tag: 'h-aaaaaaaaaaaa', digest: digest('a') },
    });
    const desired = desiredManifests(source, pinned, FILE);
    expect(desired.get('deploy/k8s/base/catalog/deployment.yaml')).toBe('kind: Deployment # edited\n');
    const text = desired.get(FILE) as string;
    expect(text.startsWith('# new comment\n')).toBe(true);
    expect(text).toContain(`newTag: h-aaaaaaaaaaaa\n    digest: ${digest('a')}`);
    // orders was never deployed locally: it keeps the source's placeholder
    expect(text).toContain(
      `name: slipway/orders\n    newName: 127.0.0.1:5000/slipway/orders\n    newTag: h-000000000000`,
    );
  });

  it('seeds the overlay as it is when nothing is pinned yet', () => {
    const source = new Map([[FILE, 'images: []\n']]);
    expect(desiredManifests(source, undefined, FILE).get(FILE)).toBe('images: []\n');
  });
});

describe('image step helpers', () => {
  it('reads the exports of the prerequisites script', () => {
    expect(parseExports('noise\nexport NODE_IMAGE=localhost/slipway/node-base:20.20.2\nexport X="a b"\n')).toEqual({
      NODE_IMAGE: 'localhost/slipway/node-base:20.20.2',
      X: 'a b',
    });
  });

  it("keeps the parent task's Nx variables away from the nested nx run-many", () => {
    const env = childEnvironment(
      {
        PATH: '/bin',
        NX_TASK_TARGET_PROJECT: 'deploy',
        NX_TERMINAL_OUTPUT_PATH: '/x',
        NX_DAEMON: 'false',
        NX_STREAM_OUTPUT: 'true',
      },
      { SLIPWAY_REGISTRY: 'r' },
    );
    expect(env).toEqual({
      PATH: '/bin',
      NX_DAEMON: 'false',
      SLIPWAY_REGISTRY: 'r',
    });
  });
});
