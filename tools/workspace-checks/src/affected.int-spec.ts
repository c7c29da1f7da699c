import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { cloneWorkspace, type TempClone } from './test-support/temp-clone';

/**
 * Proof that the project graph, not folder-based change detection, decides what CI runs: in a clone
 * of the committed HEAD, make one representative change per scenario on a branch and assert the exact
 * set `nx show projects --affected --base=<HEAD before> --head=HEAD` returns.
 *
 * The expected sets are written out from the intended graph, not computed by Nx:
 *   contracts     <- catalog, orders, web            (package.json dependencies + imports)
 *   service-kit   <- catalog, orders, web (its production server)
 *   catalog, orders, web <- web-e2e                   (implicitDependencies: it tests the running stack)
 *   delivery      <- deploy                           (deploy's targets run delivery's executors)
 *   package-lock.json -> catalog, orders               (their prune-lockfile targets read it)
 *   workspace-checks: no project dependencies; its inputs name the files outside projects that it
 *   checks (.github/, .ci/, .husky/, commitlint.config.mjs, tools/scripts/, jest.preset.js).
 */
describe('nx affected computes exactly the projects a change can break', () => {
  let repo: TempClone;

  beforeAll(() => {
    repo = cloneWorkspace('affected');
  });
  afterAll(() => repo?.cleanup());

  function affectedBy(name: string, change: (dir: string) => void): string[] {
    expect(repo.git('checkout', '--quiet', '-B', `affected/${name}`, repo.baseSha).code).toBe(0);
    change(repo.dir);
    const commit = repo.git('commit', '--quiet', '--all', '--no-verify', '-m', `test: ${name}`);
    expect(commit.output).toBe('');
    const result = repo.nx(['show', 'projects', '--affected', `--base=${repo.baseSha}`, '--head=HEAD', '--json']);
    if (result.code !== 0) throw new Error(`nx show projects --affected failed:\n${result.output}`);
    return (JSON.parse(result.stdout) as string[]).sort();
  }

  const append = (file: string, text: string) => (dir: string) => appendFileSync(path.join(dir, file), text);

  it('a contracts change affects contracts and everything built on it', () => {
    expect(affectedBy('contracts', append('libs/shared/contracts/src/index.ts', '\n// touched\n'))).toEqual([
      'catalog',
      'contracts',
      'orders',
      'web',
      'web-e2e',
    ]);
  });

  it('a catalog-only change affects catalog and the e2e suite that exercises it', () => {
    expect(affectedBy('catalog', append('apps/catalog/src/main.ts', '\n// touched\n'))).toEqual(['catalog', 'web-e2e']);
  });

  it('a README change affects nothing', () => {
    expect(affectedBy('readme', append('README.md', '\nA sentence.\n'))).toEqual([]);
  });

  it('a workflow change affects only the project that validates workflows', () => {
    expect(affectedBy('workflow', append('.github/workflows/ci.yml', '# touched\n'))).toEqual(['workspace-checks']);
  });

  it('a lockfile bump of a package only catalog uses affects catalog, its dependents and the runtime-manifest readers', () => {
    // What Nx 23.2.1 computes, and why:
    // - projectsAffectedByDependencyUpdates: "auto" (nx.json pluginsConfig["@nx/js"]) parses the lockfile
    //   at base and at head, diffs the resolved packages (version + integrity) and walks the graph back
    //   from the changed external node, here npm:jose. Only catalog declares jose, so that walk gives
    //   catalog and what depends on catalog: web-e2e. (With the default "all", every project.)
    // - Independently, a project is affected when a file named in one of its targets' {workspaceRoot}
    //   inputs changes. The `prune-lockfile` targets of catalog, orders and web (the runtime manifest each
    //   image installs from, cut out of the lockfile) declare {workspaceRoot}/package-lock.json as an
    //   input, so ANY lockfile change affects all three image projects, whichever package moved.
    const bumped = affectedBy('lockfile', (dir) => {
      const file = path.join(dir, 'package-lock.json');
      const lock = JSON.parse(readFileSync(file, 'utf8'));
      const jose = lock.packages['node_modules/jose'];
      expect(jose.version).toBe('6.1.2');
      jose.version = '6.1.3';
      jose.integrity = `sha512-${Buffer.alloc(64, 7).toString('base64')}`;
      writeFileSync(file, `${JSON.stringify(lock, null, 2)}\n`);
    });
    expect(bumped).toEqual(['catalog', 'orders', 'web', 'web-e2e']);
  });
});
