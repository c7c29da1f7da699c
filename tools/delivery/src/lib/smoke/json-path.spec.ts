import { JsonPathSyntaxError, parseJsonPath, selectJsonPath } from './json-path';

const doc = {
  status: 'ok',
  'content-type': 'json',
  "it's": 1,
  items: [
    { id: 'a', currency: 'EUR', tags: ['x'] },
    { id: 'b', currency: 'USD', tags: [] },
  ],
  nested: { deep: { value: null } },
  zero: 0,
};

const select = (path: string): unknown[] => selectJsonPath(parseJsonPath(path), doc);

describe('parseJsonPath + selectJsonPath', () => {
  it.each([
    ['$', [doc]],
    ['$.status', ['ok']],
    ['$.items[0].id', ['a']],
    ['$.items[-1].id', ['b']],
    ['$.items[*].currency', ['EUR', 'USD']],
    ['$.items.*.id', ['a', 'b']],
    ["$['content-type']", ['json']],
    ['$["content-type"]', ['json']],
    ["$['it\\'s']", [1]],
    ['$.nested.deep.value', [null]],
    ['$.zero', [0]],
    ['$.content-type', ['json']],
    ['$.items[0].tags[0]', ['x']],
  ])('%s selects %j', (path, expected) => {
    expect(select(path)).toEqual(expected);
  });

  it.each([
    ['$.missing'],
    ['$.items[5].id'],
    ['$.items[-3]'],
    ['$.status.length'],
    ['$.items[*].tags[3]'],
    ['$.zero[0]'],
  ])('%s selects nothing', (path) => {
    expect(select(path)).toEqual([]);
  });

  it('marks wildcard paths as multiple', () => {
    expect(parseJsonPath('$.items[*].id').multiple).toBe(true);
    expect(parseJsonPath('$.items[0].id').multiple).toBe(false);
  });

  it.each([
    ['', 0, 'empty'],
    ['status', 0, 'must start with "$"'],
    ['$.', 2, 'expected a member name after "."'],
    ['$.items[', 7, 'unclosed "["'],
    ['$.items[0', 7, 'unclosed "["'],
    ['$.items[abc]', 8, 'expected an index'],
    ["$['open", 1, 'unterminated quoted name'],
    ["$['a'x", 5, 'expected "]" after the quoted name'],
    ['$..id', 2, 'recursive descent'],
    ['$.items[?(@.id)]', 8, 'filter expressions'],
    ['$ .a', 1, 'unexpected character " "'],
    ['$.1abc', 2, 'expected a member name'],
    ["$['a\\n']", 4, 'unsupported escape'],
  ])('rejects %j at position %i (%s)', (path, position, reason) => {
    let error: unknown;
    try {
      parseJsonPath(path);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(JsonPathSyntaxError);
    expect((error as JsonPathSyntaxError).position).toBe(position);
    expect((error as JsonPathSyntaxError).message).toContain(reason);
    expect((error as JsonPathSyntaxError).message).toContain(`"${path}"`);
  });
});
