import type { AnalysisLimits, MeasurementOutcome, Outcome } from './types';

/**
 * Counting semantics of one check, modelled on Argo Rollouts analysis:
 * - a measurement is a success, a failure (the service answered wrongly: status, assertion,
 *   latency) or an error (no usable answer: refused, reset, timed out);
 * - failures > failureLimit → fail, decided at once (no further measurements);
 * - consecutive errors > consecutiveErrorLimit → inconclusive, decided at once; a success or a
 *   failure resets the consecutive count;
 * - after `count` measurements → pass.
 * One deliberate difference: Argo calls a metric Successful when the count is reached even if no
 * measurement succeeded (errors below the limit). Here a check that never got a successful answer
 * is inconclusive when it only saw errors, and fails when it saw a tolerated failure: a smoke
 * check exists to prove something works, and nothing was proven.
 */
export interface AnalysisState {
  taken: number;
  success: number;
  failure: number;
  error: number;
  consecutiveErrors: number;
}

export const emptyAnalysis = (): AnalysisState => ({
  taken: 0,
  success: 0,
  failure: 0,
  error: 0,
  consecutiveErrors: 0,
});

export function recordMeasurement(state: AnalysisState, outcome: MeasurementOutcome): AnalysisState {
  return {
    taken: state.taken + 1,
    success: state.success + (outcome === 'success' ? 1 : 0),
    failure: state.failure + (outcome === 'failure' ? 1 : 0),
    error: state.error + (outcome === 'error' ? 1 : 0),
    consecutiveErrors: outcome === 'error' ? state.consecutiveErrors + 1 : 0,
  };
}

export type Assessment = { decided: false } | { decided: true; outcome: Outcome; reason: string };

export function assessAnalysis(state: AnalysisState, limits: AnalysisLimits): Assessment {
  if (state.failure > limits.failureLimit) {
    return {
      decided: true,
      outcome: 'fail',
      reason: `${state.failure} failed measurement${plural(state.failure)} > failureLimit ${limits.failureLimit}`,
    };
  }
  if (state.consecutiveErrors > limits.consecutiveErrorLimit) {
    return {
      decided: true,
      outcome: 'inconclusive',
      reason: `${state.consecutiveErrors} consecutive error${plural(state.consecutiveErrors)} > consecutiveErrorLimit ${limits.consecutiveErrorLimit}`,
    };
  }
  if (state.taken < limits.count) return { decided: false };
  if (state.success === 0) {
    return state.failure > 0
      ? {
          decided: true,
          outcome: 'fail',
          reason: `no measurement succeeded (${describeCounts(state)})`,
        }
      : {
          decided: true,
          outcome: 'inconclusive',
          reason: `no measurement got an answer (${describeCounts(state)})`,
        };
  }
  return { decided: true, outcome: 'pass', reason: describeCounts(state) };
}

export function describeCounts(state: AnalysisState): string {
  const parts = [`${state.success}/${state.taken} ok`];
  if (state.failure) parts.push(`${state.failure} failed`);
  if (state.error) parts.push(`${state.error} error${plural(state.error)}`);
  return parts.join(', ');
}

function plural(n: number): string {
  return n === 1 ? '' : 's';
}
