import { selectJsonPath } from './json-path';
import type { Assertion, HttpResult, MeasurementOutcome, ResolvedCheck } from './types';

export interface Evaluation {
  outcome: MeasurementOutcome;
  statusCode?: number;
  /** Every reason the measurement was not a success, joined; absent on success. */
  message?: string;
}

const SNIPPET_CHARS = 200;

/** Classifies one answer (or the lack of one) against a check. Pure: no I/O, no clock. */
export function evaluateCheckResult(check: ResolvedCheck, result: HttpResult): Evaluation {
  if (result.kind === 'error') {
    return { outcome: 'error', message: `${result.code}: ${result.message}` };
  }
  const problems: string[] = [];
  if (!check.expectStatus.includes(result.status)) {
    // The assertions describe the expected answer; on a wrong status they would only add noise.
    problems.push(`status ${result.status}, expected ${check.expectStatus.join(' or ')}${bodySnippet(result.body)}`);
  } else {
    problems.push(...evaluateAssertions(check.assertions, result.body, result.headers));
  }
  if (check.maxLatencyMs !== undefined && result.durationMs > check.maxLatencyMs) {
    problems.push(`took ${Math.round(result.durationMs)} ms, max ${check.maxLatencyMs} ms`);
  }
  return problems.length === 0
    ? { outcome: 'success', statusCode: result.status }
    : {
        outcome: 'failure',
        statusCode: result.status,
        message: problems.join('; '),
      };
}

/** Problems found by the assertions; empty when all hold. The body is parsed once, only if a JSON assertion needs it. */
export function evaluateAssertions(assertions: Assertion[], body: string, headers: Record<string, string>): string[] {
  const problems: string[] = [];
  let parsed: { ok: true; value: unknown } | { ok: false; error: string } | undefined;
  let reportedNotJson = false;
  for (const assertion of assertions) {
    if (assertion.kind.startsWith('header-')) {
      problems.push(...evaluateHeaderAssertion(assertion, headers));
      continue;
    }
    if (!parsed) {
      try {
        parsed = { ok: true, value: JSON.parse(body) };
      } catch (error) {
        parsed = { ok: false, error: (error as Error).message };
      }
    }
    if (!parsed.ok) {
      // Said once: the remaining JSON assertions would all repeat the same reason.
      if (!reportedNotJson) problems.push(`body is not JSON (${parsed.error})${bodySnippet(body)}`);
      reportedNotJson = true;
      continue;
    }
    const problem = evaluateJsonAssertion(assertion, parsed.value);
    if (problem) problems.push(problem);
  }
  return problems;
}

function evaluateJsonAssertion(assertion: Assertion, document: unknown): string | undefined {
  if (assertion.kind !== 'equals' && assertion.kind !== 'exists' && assertion.kind !== 'matches') return undefined;
  const where = assertion.path.source;
  const values = selectJsonPath(assertion.path, document);
  if (assertion.kind === 'exists') {
    if (assertion.expected && values.length === 0) return `${where} does not exist`;
    if (!assertion.expected && values.length > 0) return `${where} exists (${preview(values[0])}), expected it absent`;
    return undefined;
  }
  if (values.length === 0) return `${where} does not exist`;
  if (assertion.kind === 'equals') {
    // With a wildcard every selected value must be equal: "all items are EUR", not "one is".
    const wrong = values.findIndex((value) => !deepEqual(value, assertion.expected));
    return wrong === -1 ? undefined : `${where} is ${preview(values[wrong])}, expected ${preview(assertion.expected)}`;
  }
  const wrong = values.findIndex((value) => !matchesPattern(value, assertion.pattern));
  return wrong === -1 ? undefined : `${where} is ${preview(values[wrong])}, which does not match ${assertion.pattern}`;
}

function evaluateHeaderAssertion(assertion: Assertion, headers: Record<string, string>): string[] {
  if (assertion.kind !== 'header-equals' && assertion.kind !== 'header-exists' && assertion.kind !== 'header-matches')
    return [];
  const value = headers[assertion.header.toLowerCase()];
  const where = `header ${assertion.header}`;
  if (assertion.kind === 'header-exists') {
    if (assertion.expected && value === undefined) return [`${where} is missing`];
    if (!assertion.expected && value !== undefined)
      return [`${where} is present (${preview(value)}), expected it absent`];
    return [];
  }
  if (value === undefined) return [`${where} is missing`];
  if (assertion.kind === 'header-equals') {
    return value === assertion.expected
      ? []
      : [`${where} is ${preview(value)}, expected ${preview(assertion.expected)}`];
  }
  return assertion.pattern.test(value)
    ? []
    : [`${where} is ${preview(value)}, which does not match ${assertion.pattern}`];
}

function matchesPattern(value: unknown, pattern: RegExp): boolean {
  if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean') return false;
  // A pattern is reused across measurements: a global/sticky flag would carry lastIndex between them.
  pattern.lastIndex = 0;
  return pattern.test(String(value));
}

export function deepEqual(a: unknown, b: unknown): boolean {
  if (Object.is(a, b)) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a) && Array.isArray(b)) {
    return a.length === b.length && a.every((item, index) => deepEqual(item, b[index]));
  }
  const aKeys = Object.keys(a as object);
  const bKeys = Object.keys(b as object);
  return (
    aKeys.length === bKeys.length &&
    aKeys.every(
      (key) =>
        Object.prototype.hasOwnProperty.call(b, key) &&
        deepEqual((a as Record<string, unknown>)[key], (b as Record<string, unknown>)[key]),
    )
  );
}

export function preview(value: unknown): string {
  if (value === undefined) return 'undefined';
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

function bodySnippet(body: string): string {
  const trimmed = body.trim().replace(/\s+/g, ' ');
  if (!trimmed) return '';
  return `: ${trimmed.length > SNIPPET_CHARS ? `${trimmed.slice(0, SNIPPET_CHARS)}...` : trimmed}`;
}

/** `$.status == "ok"`, `$.items exists`, `header content-type ~ /^text\/html/`: for plans and docs. */
export function describeAssertion(assertion: Assertion): string {
  switch (assertion.kind) {
    case 'equals':
      return `${assertion.path.source} == ${preview(assertion.expected)}`;
    case 'exists':
      return `${assertion.path.source} ${assertion.expected ? 'exists' : 'absent'}`;
    case 'matches':
      return `${assertion.path.source} ~ ${assertion.pattern}`;
    case 'header-equals':
      return `header ${assertion.header} == ${preview(assertion.expected)}`;
    case 'header-exists':
      return `header ${assertion.header} ${assertion.expected ? 'exists' : 'absent'}`;
    case 'header-matches':
      return `header ${assertion.header} ~ ${assertion.pattern}`;
  }
}
