// Pure helpers for tools/scripts/test-all.mjs: turn Jest results files (written by
// jest-results-reporter.cjs) and Playwright JSON reports into one count of test cases.
// CommonJS so that both the .mjs script and the Jest suites of workspace-checks can load it.

/**
 * Counts from one Jest results file. A suite that crashed before its tests ran (syntax error,
 * failing import) reports no failed test, so it counts as one failed test: otherwise a broken
 * file would shrink the totals silently instead of showing up as a failure.
 */
function countJest(results) {
  for (const key of ['numPassedTests', 'numFailedTests', 'numPendingTests']) {
    if (!Number.isInteger(results?.[key]) || results[key] < 0) {
      throw new Error(`not a Jest results file: "${key}" is ${JSON.stringify(results?.[key])}`);
    }
  }
  return {
    passed: results.numPassedTests,
    failed: results.numFailedTests + (results.numRuntimeErrorTestSuites || 0),
    skipped: results.numPendingTests + (results.numTodoTests || 0),
  };
}

/**
 * Counts from one Playwright JSON report. Each test counts once whatever its retries:
 * expected -> passed, flaky (failed then passed on retry) -> passed, unexpected -> failed,
 * skipped -> skipped. Errors outside tests (global setup, web server) count as one failure each.
 */
function countPlaywright(report) {
  const stats = report?.stats;
  for (const key of ['expected', 'unexpected', 'flaky', 'skipped']) {
    if (!Number.isInteger(stats?.[key]) || stats[key] < 0) {
      throw new Error(`not a Playwright JSON report: "stats.${key}" is ${JSON.stringify(stats?.[key])}`);
    }
  }
  return {
    passed: stats.expected + stats.flaky,
    failed: stats.unexpected + (Array.isArray(report.errors) ? report.errors.length : 0),
    skipped: stats.skipped,
  };
}

function sumCounts(counts) {
  return counts.reduce(
    (total, c) => ({
      passed: total.passed + c.passed,
      failed: total.failed + c.failed,
      skipped: total.skipped + c.skipped,
    }),
    { passed: 0, failed: 0, skipped: 0 },
  );
}

/** The one line CI parses. Skipped is printed only when there are skipped tests. */
function summaryLine({ passed, failed, skipped }) {
  return `tests: ${passed} passed, ${failed} failed${skipped > 0 ? `, ${skipped} skipped` : ''}`;
}

module.exports = { countJest, countPlaywright, sumCounts, summaryLine };
