import { deepEqual, describeAssertion, evaluateCheckResult } from './evaluate';
import { configFrom } from './testing/config';
import { json, refused, text, timedOut } from './testing/fakes';

const checkWith = (raw: Record<string, unknown>) => configFrom({ checks: [{ path: '/x', ...raw }] }).checks[0];

describe('evaluateCheckResult', () => {
  it('is a success when status, assertions and latency hold', () => {
    const check = checkWith({
      maxLatencyMs: 100,
      assertions: [
        { path: '$.status', equals: 'ok' },
        { header: 'content-type', matches: '^application/json' },
      ],
    });
    expect(evaluateCheckResult(check, json(200, { status: 'ok' }, 40))).toEqual({
      outcome: 'success',
      statusCode: 200,
    });
  });

  it('is an error, not a failure, when there is no answer', () => {
    expect(evaluateCheckResult(checkWith({}), refused())).toEqual({
      outcome: 'error',
      message: 'ECONNREFUSED: connection refused (nothing listening)',
    });
    expect(evaluateCheckResult(checkWith({}), timedOut(5000))).toEqual({
      outcome: 'error',
      message: 'TIMEOUT: no complete answer within 5000 ms',
    });
  });

  it('fails on a wrong status, quoting the start of the body', () => {
    expect(evaluateCheckResult(checkWith({}), json(500, { statusCode: 500, error: 'Internal Server Error' }))).toEqual({
      outcome: 'failure',
      statusCode: 500,
      message: 'status 500, expected 200: {"statusCode":500,"error":"Internal Server Error"}',
    });
    expect(evaluateCheckResult(checkWith({ expectStatus: [200, 204] }), text(404, ''))).toMatchObject({
      message: 'status 404, expected 200 or 204',
    });
  });

  it('does not evaluate body assertions on a wrong status', () => {
    const check = checkWith({
      assertions: [{ path: '$.items', exists: true }],
    });
    expect(evaluateCheckResult(check, json(503, { error: 'down' })).message).toBe(
      'status 503, expected 200: {"error":"down"}',
    );
  });

  it('fails when the answer is too slow, with the measured and the allowed time', () => {
    expect(evaluateCheckResult(checkWith({ maxLatencyMs: 100 }), json(200, {}, 812.4))).toMatchObject({
      outcome: 'failure',
      message: 'took 812 ms, max 100 ms',
    });
  });

  it('reports every failed assertion together', () => {
    const check = checkWith({
      assertions: [
        { path: '$.status', equals: 'ok' },
        { path: '$.items', exists: true },
        { path: '$.stack', exists: false },
        { path: '$.version', matches: '^2\\.' },
        { header: 'x-request-id', exists: true },
      ],
    });
    const result = evaluateCheckResult(
      check,
      json(200, { status: 'degraded', stack: 'Error: at x', version: '1.9.0' }),
    );
    expect(result.message?.split('; ')).toEqual([
      '$.status is "degraded", expected "ok"',
      '$.items does not exist',
      '$.stack exists ("Error: at x"), expected it absent',
      '$.version is "1.9.0", which does not match /^2\\./',
      'header x-request-id is missing',
    ]);
  });

  it('requires every wildcard match to satisfy equals/matches, and one for exists', () => {
    const check = checkWith({
      assertions: [{ path: '$.items[*].currency', equals: 'EUR' }],
    });
    expect(evaluateCheckResult(check, json(200, { items: [{ currency: 'EUR' }, { currency: 'EUR' }] })).outcome).toBe(
      'success',
    );
    expect(evaluateCheckResult(check, json(200, { items: [{ currency: 'EUR' }, { currency: 'USD' }] })).message).toBe(
      '$.items[*].currency is "USD", expected "EUR"',
    );
    expect(evaluateCheckResult(check, json(200, { items: [] })).message).toBe('$.items[*].currency does not exist');
    const matches = checkWith({
      assertions: [{ path: '$.items[*].n', matches: '^\\d+$' }],
    });
    expect(evaluateCheckResult(matches, json(200, { items: [{ n: 1 }, { n: { a: 1 } }] })).message).toBe(
      '$.items[*].n is {"a":1}, which does not match /^\\d+$/',
    );
  });

  it('compares equals deeply, distinguishing numbers from strings', () => {
    const check = checkWith({
      assertions: [
        { path: '$.page', equals: { limit: 5, tags: ['a'] } },
        { path: '$.n', equals: 1 },
      ],
    });
    expect(evaluateCheckResult(check, json(200, { page: { tags: ['a'], limit: 5 }, n: 1 })).outcome).toBe('success');
    expect(evaluateCheckResult(check, json(200, { page: { tags: ['a'], limit: 5 }, n: '1' })).message).toBe(
      '$.n is "1", expected 1',
    );
    expect(deepEqual([1, { a: null }], [1, { a: null }])).toBe(true);
    expect(deepEqual({ a: 1 }, { a: 1, b: undefined })).toBe(false);
    expect(deepEqual([1], { 0: 1 })).toBe(false);
  });

  it('fails once when the body is not JSON, whatever the number of JSON assertions', () => {
    const check = checkWith({
      assertions: [
        { path: '$.a', exists: true },
        { path: '$.b', exists: true },
        { header: 'content-type', matches: 'json' },
      ],
    });
    const result = evaluateCheckResult(check, text(200, '<html>oops</html>'));
    expect(result.message).toMatch(
      /^body is not JSON \(.+\): <html>oops<\/html>; header content-type is "text\/plain", which does not match \/json\/$/,
    );
  });

  it('checks header values case-insensitively by name', () => {
    const check = checkWith({
      assertions: [{ header: 'X-Version', equals: '2' }],
    });
    expect(evaluateCheckResult(check, json(200, {}, 1, { 'x-version': '2' })).outcome).toBe('success');
    expect(evaluateCheckResult(check, json(200, {}, 1, { 'x-version': '3' })).message).toBe(
      'header x-version is "3", expected "2"',
    );
  });

  it('describes assertions for plans', () => {
    expect(
      checkWith({
        assertions: [
          { path: '$.a', equals: 'x' },
          { path: '$.b', exists: false },
          { header: 'h', matches: 'v' },
        ],
      }).assertions.map(describeAssertion),
    ).toEqual(['$.a == "x"', '$.b absent', 'header h ~ /v/']);
  });
});
