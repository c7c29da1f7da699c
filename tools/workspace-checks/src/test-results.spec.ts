import { mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { run, tempDir, workspaceRoot } from './test-support/workspace';

// Plain CommonJS helpers of tools/scripts (outside any project), loaded by path.
const results = require(path.join(workspaceRoot, 'tools/scripts/lib/test-results.cjs'));
const { resultsFileName } = require(path.join(workspaceRoot, 'tools/scripts/jest-results-reporter.cjs'));

const jestFile = (overrides: Record<string, unknown> = {}) => ({
  numPassedTests: 10,
  numFailedTests: 1,
  numPendingTests: 2,
  numTodoTests: 1,
  numRuntimeErrorTestSuites: 0,
  ...overrides,
});

describe('test result counting', () => {
  it('counts Jest passed, failed and skipped (pending + todo) tests', () => {
    expect(results.countJest(jestFile())).toEqual({
      passed: 10,
      failed: 1,
      skipped: 3,
    });
  });

  it('counts a suite that crashed before running as a failed test', () => {
    expect(results.countJest(jestFile({ numFailedTests: 0, numRuntimeErrorTestSuites: 2 }))).toEqual({
      passed: 10,
      failed: 2,
      skipped: 3,
    });
  });

  it('rejects something that is not a Jest results file, naming the field', () => {
    expect(() => results.countJest({ numPassedTests: 1 })).toThrow('"numFailedTests" is undefined');
    expect(() => results.countJest(jestFile({ numPassedTests: -1 }))).toThrow('"numPassedTests" is -1');
  });

  it('counts each Playwright test once: flaky passes, unexpected fails, global errors fail', () => {
    const report = {
      stats: { expected: 4, unexpected: 1, flaky: 2, skipped: 1 },
      errors: [{ message: 'webServer' }],
    };
    expect(results.countPlaywright(report)).toEqual({
      passed: 6,
      failed: 2,
      skipped: 1,
    });
    expect(() => results.countPlaywright({ stats: { expected: 1 } })).toThrow('"stats.unexpected" is undefined');
  });

  it('sums and prints the one summary line CI parses', () => {
    const total = results.sumCounts([
      { passed: 3, failed: 0, skipped: 0 },
      { passed: 4, failed: 2, skipped: 1 },
    ]);
    expect(total).toEqual({ passed: 7, failed: 2, skipped: 1 });
    expect(results.summaryLine(total)).toBe('tests: 7 passed, 2 failed, 1 skipped');
    expect(results.summaryLine({ passed: 5, failed: 0, skipped: 0 })).toBe('tests: 5 passed, 0 failed');
    expect(results.sumCounts([])).toEqual({ passed: 0, failed: 0, skipped: 0 });
  });

  it('names results files after the Jest displayName', () => {
    expect(resultsFileName('delivery-integration')).toBe('results-delivery-integration.json');
    expect(resultsFileName(undefined)).toBe('results-jest.json');
    expect(resultsFileName('a b/c')).toBe('results-a-b-c.json');
  });
});

describe('jest.preset.js results reporter (a real Jest run)', () => {
  it('writes the counts of a run that has passing, failing, skipped and todo tests', () => {
    const { dir, cleanup } = tempDir('jest-reporter');
    try {
      mkdirSync(path.join(dir, 'src'));
      // The preset's resolver and transforms are resolved from the project's own node_modules.
      symlinkSync(path.join(workspaceRoot, 'node_modules'), path.join(dir, 'node_modules'));
      writeFileSync(
        path.join(dir, 'src', 'sample.spec.js'),
        [
          "test('passes', () => expect(1).toBe(1));",
          "test('passes too', () => expect(2).toBe(2));",
          "test('fails', () => expect(1).toBe(2));",
          "test.skip('is skipped', () => undefined);",
          "test.todo('is todo');",
        ].join('\n'),
      );
      writeFileSync(path.join(dir, 'src', 'broken.spec.js'), "require('./does-not-exist');\n");
      writeFileSync(
        path.join(dir, 'jest.config.js'),
        `module.exports = { displayName: 'sample', preset: ${JSON.stringify(path.relative(dir, path.join(workspaceRoot, 'jest.preset.js')))}, ` +
          `testEnvironment: 'node', transform: { '^.+\\\\.js$': ['@swc/jest', {}] } };\n`,
      );
      const jest = run(
        path.join(workspaceRoot, 'node_modules', '.bin', 'jest'),
        ['--config', path.join(dir, 'jest.config.js'), '--ci'],
        {
          cwd: dir,
        },
      );
      expect(jest.code).toBe(1);
      const outputDir = path.join(dir, 'test-output', 'jest');
      expect(readdirSync(outputDir)).toEqual(['results-sample.json']);
      const written = JSON.parse(readFileSync(path.join(outputDir, 'results-sample.json'), 'utf8'));
      expect(written).toMatchObject({
        displayName: 'sample',
        numPassedTests: 2,
        numFailedTests: 1,
        numPendingTests: 1,
        numTodoTests: 1,
        numRuntimeErrorTestSuites: 1,
        success: false,
      });
      expect(written.failedTests).toEqual(['src/sample.spec.js › fails']);
      expect(results.countJest(written)).toEqual({
        passed: 2,
        failed: 2,
        skipped: 2,
      });
    } finally {
      cleanup();
    }
  });
});
