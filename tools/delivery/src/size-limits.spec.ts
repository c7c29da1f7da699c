import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import * as ts from 'typescript';

/**
 * The plugin's size limits (issue 14): executors stay thin orchestrators (at most 120 lines per
 * executor.ts) and no function in src/lib is longer than 120 lines (long ones become named stages).
 * Measured with the TypeScript parser: a function's lines run from its first token to its last.
 */
const MAX_EXECUTOR_LINES = 120;
const MAX_FUNCTION_LINES = 120;
const src = __dirname;

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(full);
    return /\.ts$/.test(entry.name) && !/[.-](spec|test)\.ts$/.test(entry.name) ? [full] : [];
  });
}

function lineCount(file: string): number {
  return readFileSync(file, 'utf8').replace(/\n$/, '').split('\n').length;
}

interface FunctionSize {
  name: string;
  file: string;
  line: number;
  lines: number;
}

/** Every function-like node of `text` with its length in lines. */
function functionSizes(file: string, text: string): FunctionSize[] {
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const sizes: FunctionSize[] = [];
  const visit = (node: ts.Node) => {
    if (ts.isFunctionLike(node) && 'body' in node && node.body) {
      const start = source.getLineAndCharacterOfPosition(node.getStart(source)).line;
      const end = source.getLineAndCharacterOfPosition(node.getEnd()).line;
      const named = (node as { name?: ts.Node }).name;
      const parent = node.parent;
      const name = named
        ? named.getText(source)
        : ts.isVariableDeclaration(parent) || ts.isPropertyAssignment(parent)
          ? parent.name.getText(source)
          : '(anonymous)';
      sizes.push({ name, file, line: start + 1, lines: end - start + 1 });
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return sizes;
}

describe('size limits', () => {
  it(`no executor.ts is longer than ${MAX_EXECUTOR_LINES} lines`, () => {
    const executors = sourceFiles(path.join(src, 'executors')).filter((f) => path.basename(f) === 'executor.ts');
    expect(executors.length).toBeGreaterThan(0);
    const over = executors
      .map((file) => ({ file: path.relative(src, file), lines: lineCount(file) }))
      .filter((e) => e.lines > MAX_EXECUTOR_LINES);
    expect(over).toEqual([]);
  });

  it(`no function in src/lib is longer than ${MAX_FUNCTION_LINES} lines`, () => {
    const over = sourceFiles(path.join(src, 'lib'))
      .flatMap((file) => functionSizes(path.relative(src, file), readFileSync(file, 'utf8')))
      .filter((f) => f.lines > MAX_FUNCTION_LINES);
    expect(over).toEqual([]);
  });

  it('measures a function from its first line to its last', () => {
    const body = Array.from({ length: 5 }, (_, i) => `  const a${i} = ${i};`).join('\n');
    const sizes = functionSizes('x.ts', `export function f() {\n${body}\n}\nconst g = () => {\n  return 1;\n};\n`);
    expect(sizes.map((s) => [s.name, s.lines])).toEqual([
      ['f', 7],
      ['g', 3],
    ]);
  });
});
