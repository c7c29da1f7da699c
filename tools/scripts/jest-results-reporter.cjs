// A Jest reporter (configured for every project in jest.preset.js) that writes the run's counts to
// <rootDir>/test-output/jest/results-<displayName>.json. tools/scripts/test-all.mjs sums these files
// into the one "tests: N passed, N failed" line CI counts. The folder is part of the `test` target's
// outputs, so a cached test run restores its results file together with its coverage.
const fs = require('node:fs');
const path = require('node:path');

const MAX_FAILED_NAMES = 50;

function resultsFileName(displayName) {
  const name = String(displayName || 'jest').replace(/[^A-Za-z0-9._-]+/g, '-');
  return `results-${name}.json`;
}

class JestResultsReporter {
  constructor(globalConfig) {
    this.globalConfig = globalConfig;
  }

  onRunComplete(testContexts, results) {
    const contexts = [...(testContexts || [])];
    const displayName =
      contexts.length === 1 ? contexts[0].config.displayName?.name : contexts.length > 1 ? 'projects' : undefined;
    const failedTests = [];
    for (const file of results.testResults) {
      for (const test of file.testResults) {
        if (test.status === 'failed' && failedTests.length < MAX_FAILED_NAMES) {
          failedTests.push(`${path.relative(this.globalConfig.rootDir, file.testFilePath)} › ${test.fullName}`);
        }
      }
    }
    const summary = {
      runner: 'jest',
      displayName: displayName || null,
      rootDir: this.globalConfig.rootDir,
      finishedAt: new Date().toISOString(),
      numTotalTests: results.numTotalTests,
      numPassedTests: results.numPassedTests,
      numFailedTests: results.numFailedTests,
      numPendingTests: results.numPendingTests,
      numTodoTests: results.numTodoTests,
      numTotalTestSuites: results.numTotalTestSuites,
      numFailedTestSuites: results.numFailedTestSuites,
      // Suites that crashed before running their tests (syntax error, failing import, ...).
      numRuntimeErrorTestSuites: results.numRuntimeErrorTestSuites,
      success: results.success,
      failedTests,
    };
    const dir = path.join(this.globalConfig.rootDir, 'test-output', 'jest');
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, resultsFileName(displayName)), JSON.stringify(summary, null, 2) + '\n');
  }
}

module.exports = JestResultsReporter;
module.exports.resultsFileName = resultsFileName;
