import { runBumpProperty } from './bump-property';

/**
 * The bump's property test with a fixed seed and a small budget (a few seconds); the bump benchmark
 * (tools/bench/bump-bench.mjs) runs the same property with a larger one. `kubectl kustomize` runs on
 * a sample of the generated kustomizations (it costs ~150 ms a run).
 */
describe('bump property: random GitOps files, random images', () => {
  it('keeps every other byte and every reader sees exactly the new references (seed 18)', async () => {
    const stats = await runBumpProperty({ seed: 18, numRuns: 120, kubectlEvery: 10 });
    expect(stats.cases).toBe(120);
    expect(stats.kubectlRuns).toBeGreaterThanOrEqual(3);
    expect(stats.nonUtf8Cases).toBeGreaterThan(15);
    expect(stats.crlfCases).toBeGreaterThan(30);
  }, 60_000);
});
