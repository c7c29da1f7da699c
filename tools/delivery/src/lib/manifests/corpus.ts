import { readdirSync, readFileSync, existsSync } from 'node:fs';
import * as path from 'node:path';
import type { ImageChange, ImageTarget } from './image-targets';

/**
 * The corpus of awkward GitOps files (__fixtures__/corpus/<case>/): `input.yaml`, `case.json`
 * (the target and the changes) and either `expected.yaml` (the exact bytes after the bump) or
 * `refused.txt` (a pattern the refusal message must match). Test-only; shared by the planner spec
 * and the executor integration spec.
 */
export interface CorpusCase {
  name: string;
  dir: string;
  input: Buffer;
  target: Omit<ImageTarget, 'file'> & Partial<Pick<ImageTarget, 'file'>>;
  changes: ImageChange[];
  expected?: Buffer;
  refused?: RegExp;
}

export const CORPUS_DIR = path.join(__dirname, '__fixtures__', 'corpus');

export function loadCorpus(): CorpusCase[] {
  return readdirSync(CORPUS_DIR, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => {
      const dir = path.join(CORPUS_DIR, d.name);
      const spec = JSON.parse(readFileSync(path.join(dir, 'case.json'), 'utf8'));
      const refusedFile = path.join(dir, 'refused.txt');
      const expectedFile = path.join(dir, 'expected.yaml');
      return {
        name: d.name,
        dir,
        input: readFileSync(path.join(dir, 'input.yaml')),
        target: spec.target,
        changes: spec.changes,
        expected: existsSync(expectedFile) ? readFileSync(expectedFile) : undefined,
        refused: existsSync(refusedFile) ? new RegExp(readFileSync(refusedFile, 'utf8').trim()) : undefined,
      };
    });
}
