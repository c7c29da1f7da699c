import { assessAnalysis, emptyAnalysis, recordMeasurement } from './analysis';
import type { AnalysisLimits, MeasurementOutcome } from './types';

const S: MeasurementOutcome = 'success';
const F: MeasurementOutcome = 'failure';
const E: MeasurementOutcome = 'error';

/** Feeds outcomes until the analysis decides; returns the decision and how many measurements it took. */
function run(outcomes: MeasurementOutcome[], limits: Partial<AnalysisLimits>) {
  const full: AnalysisLimits = {
    count: outcomes.length,
    intervalMs: 0,
    failureLimit: 0,
    consecutiveErrorLimit: 4,
    ...limits,
  };
  let state = emptyAnalysis();
  for (const outcome of outcomes) {
    state = recordMeasurement(state, outcome);
    const assessment = assessAnalysis(state, full);
    if (assessment.decided) return { ...assessment, taken: state.taken };
  }
  return { decided: false as const, taken: state.taken };
}

describe('analysis semantics (Argo Rollouts failureLimit / consecutiveErrorLimit)', () => {
  it('passes when every measurement succeeds', () => {
    expect(run([S, S, S], {})).toMatchObject({
      outcome: 'pass',
      taken: 3,
      reason: '3/3 ok',
    });
  });

  it('fails on the first failure with failureLimit 0 and stops measuring', () => {
    expect(run([S, F, S, S], { count: 4 })).toMatchObject({
      outcome: 'fail',
      taken: 2,
      reason: '1 failed measurement > failureLimit 0',
    });
  });

  it('tolerates failures up to failureLimit, fails on one more', () => {
    expect(run([F, S, F, S], { failureLimit: 2 })).toMatchObject({
      outcome: 'pass',
      taken: 4,
    });
    expect(run([F, S, F, F, S], { failureLimit: 2 })).toMatchObject({
      outcome: 'fail',
      taken: 4,
      reason: '3 failed measurements > failureLimit 2',
    });
  });

  it('counts errors apart from failures: errors never fail a check', () => {
    expect(run([E, S, E, S, E], { consecutiveErrorLimit: 1 })).toMatchObject({
      outcome: 'pass',
      reason: '2/5 ok, 3 errors',
    });
  });

  it('is inconclusive when consecutive errors exceed consecutiveErrorLimit, and stops there', () => {
    expect(run([S, E, E, E, S], { consecutiveErrorLimit: 2 })).toMatchObject({
      outcome: 'inconclusive',
      taken: 4,
      reason: '3 consecutive errors > consecutiveErrorLimit 2',
    });
  });

  it('resets the consecutive error count on a success or a failure', () => {
    expect(run([E, E, S, E, E, S], { consecutiveErrorLimit: 2 })).toMatchObject({ outcome: 'pass' });
    expect(run([E, E, F, E, E, S], { consecutiveErrorLimit: 2, failureLimit: 1 })).toMatchObject({ outcome: 'pass' });
  });

  it('consecutiveErrorLimit 0 makes the first error inconclusive', () => {
    expect(run([E, S], { consecutiveErrorLimit: 0 })).toMatchObject({
      outcome: 'inconclusive',
      taken: 1,
    });
  });

  it('a failure beyond the limit decides before an error streak does', () => {
    expect(run([E, E, F], { consecutiveErrorLimit: 5 })).toMatchObject({
      outcome: 'fail',
    });
  });

  // Where Slipway departs from Argo: reaching the count without any success proves nothing.
  it('is inconclusive when the count is reached with only errors (Argo would call it Successful)', () => {
    expect(run([E, E, E], { consecutiveErrorLimit: 4 })).toMatchObject({
      outcome: 'inconclusive',
      reason: 'no measurement got an answer (0/3 ok, 3 errors)',
    });
  });

  it('fails when the count is reached with tolerated failures but no success', () => {
    expect(run([F, F], { failureLimit: 5 })).toMatchObject({
      outcome: 'fail',
      reason: 'no measurement succeeded (0/2 ok, 2 failed)',
    });
  });

  it('is undecided until the count is reached', () => {
    expect(run([S, S], { count: 3 })).toEqual({ decided: false, taken: 2 });
  });
});
