import { decodeFileBytes, encodeFileText } from './file-bytes';
import { planImageTarget, type ImageTarget } from './image-targets';
import { loadCorpus } from './corpus';

/**
 * Every corpus file through the pure planner: the bytes after the bump must equal the expected
 * bytes exactly (Buffer.equals, not a re-parse), or the bump must refuse naming file, line and fix.
 */
const corpus = loadCorpus();

describe('bump corpus (pure planner)', () => {
  it('has both edited and refused cases', () => {
    expect(corpus.filter((c) => c.expected).length).toBeGreaterThanOrEqual(12);
    expect(corpus.filter((c) => c.refused).length).toBeGreaterThanOrEqual(1);
    expect(corpus.every((c) => Boolean(c.expected) !== Boolean(c.refused))).toBe(true);
  });

  it.each(corpus.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    const file = `corpus/${c.name}/input.yaml`;
    const target = { ...c.target, file } as ImageTarget;
    const run = () => planImageTarget(target, decodeFileBytes(c.input), c.changes);
    if (c.refused) {
      expect(run).toThrow(c.refused);
      expect(run).toThrow(new RegExp(`${file.replace(/[.]/g, '\\.')}:\\d+: [\\s\\S]*\\n  fix: \\S`));
      return;
    }
    const { plan, handled } = run();
    const after = encodeFileText(plan.after);
    if (!after.equals(c.expected as Buffer)) {
      // Show the difference readably; the assertion is on the bytes.
      expect(after.toString('latin1')).toBe((c.expected as Buffer).toString('latin1'));
    }
    expect(after.equals(c.expected as Buffer)).toBe(true);
    expect([...handled].sort()).toEqual(c.changes.map((ch) => ch.project).sort());
    // Bumping again is a no-op: the file already holds every reference.
    const again = planImageTarget(target, plan.after, c.changes);
    expect(encodeFileText(again.plan.after).equals(after)).toBe(true);
    expect(again.plan.occurrences.every((o) => !o.changed)).toBe(true);
  });
});
