import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PathTemplateError } from './errors.js';
import { isSingleSegmentVariable, parsePathTemplate, templateShape } from './path-template.js';

/** [template, shape, variables as "path@start-end", verb] */
const VALID: Array<[string, string, string[], string]> = [
  ['/v1/shelves', '/v1/shelves', [], ''],
  ['/v1/{name=shelves/*}', '/v1/shelves/*', ['name@1-3'], ''],
  ['/v1/{name=shelves/*/books/*}:checkout', '/v1/shelves/*/books/*:checkout', ['name@1-5'], 'checkout'],
  ['/v1/books/{book_id}', '/v1/books/*', ['book_id@2-3'], ''],
  ['/v1/{parent=shelves/*}/books:stream', '/v1/shelves/*/books:stream', ['parent@1-3'], 'stream'],
  ['/v1/files/{path=**}', '/v1/files/**', ['path@2-3'], ''],
  ['/v1/{book.name=shelves/*/books/*}', '/v1/shelves/*/books/*', ['book.name@1-5'], ''],
  ['/v1/books:search', '/v1/books:search', [], 'search'],
  ['/v1/*/x/**:dl', '/v1/*/x/**:dl', [], 'dl'],
  ['/{a}/{b=*}/{c=lit}', '/*/*/lit', ['a@0-1', 'b@1-2', 'c@2-3'], ''],
  ["/v1/a-b.c_d~e!$&'()+,;=@/%2Fx", "/v1/a-b.c_d~e!$&'()+,;=@/%2Fx", [], ''],
  ['/v1/{_x.y_1.z}', '/v1/*', ['_x.y_1.z@1-2'], ''],
];

test('parsePathTemplate accepts every form of the grammar', () => {
  for (const [src, shape, vars, verb] of VALID) {
    const t = parsePathTemplate(src);
    assert.equal(t.source, src);
    assert.equal(templateShape(t), shape, src);
    assert.deepEqual(t.variables.map((v) => `${v.fieldPath}@${v.start}-${v.end}`), vars, src);
    assert.equal(t.verb, verb, src);
  }
});

test('parsePathTemplate segment kinds: literal, single, multi', () => {
  const t = parsePathTemplate('/v1/{name=shelves/*}/files/**');
  assert.deepEqual(t.segments, [
    { kind: 'literal', value: 'v1' },
    { kind: 'literal', value: 'shelves' },
    { kind: 'single' },
    { kind: 'literal', value: 'files' },
    { kind: 'multi' },
  ]);
});

/** [template, position, message fragment] */
const INVALID: Array<[string, number, string]> = [
  ['', 0, 'must start with "/"'],
  ['v1/x', 0, 'must start with "/"'],
  ['/', 1, 'expected a segment, got end of template (empty segment)'],
  ['/v1/', 4, 'expected a segment, got end of template'],
  ['/v1//x', 4, 'expected a segment, got "/"'],
  ['/v1/{name', 9, 'expected "}" to close the variable opened at position 4, got end of template'],
  ['/v1/{name=shelves/*', 19, 'expected "}" to close the variable opened at position 4'],
  ['/v1/{}', 5, 'expected a field name (letter or "_"), got "}"'],
  ['/v1/{1x}', 5, 'expected a field name'],
  ['/v1/{a.}', 7, 'expected a field name'],
  ['/v1/{a=}', 7, 'expected a segment, got "}"'],
  ['/v1/{a={b}}', 7, 'a variable must not contain another variable'],
  ['/{a}/{a}', 6, 'field "a" is bound by two variables'],
  ['/v1/**/x', 4, '"**" must be the last segment'],
  ['/v1/{p=**}/x', 7, '"**" must be the last segment'],
  ['/v1/***', 6, '"***" is not a segment'],
  ['/v1/a*', 5, 'unexpected "*"'],
  ['/v1/books:', 10, 'expected a verb after ":", got end of template'],
  ['/v1/a:b/c', 7, 'unexpected "/": the verb must end the template'],
  ['/v1/a:b:c', 7, 'unexpected ":": the verb must end the template'],
  ['/v1/x?y=1', 5, 'unexpected "?"'],
  ['/v1/x#f', 5, 'unexpected "#"'],
  ['/v1/%zz', 4, '"%" must be followed by two hex digits'],
  ['/v1/a b', 5, 'unexpected " "'],
  ['/v1/{name=shelves/*}}', 20, 'unexpected "}"'],
];

test('parsePathTemplate rejects malformed templates with the position', () => {
  for (const [src, position, fragment] of INVALID) {
    assert.throws(
      () => parsePathTemplate(src),
      (err: unknown) => {
        assert.ok(err instanceof PathTemplateError, src);
        assert.equal(err.code, 'invalid_path_template');
        assert.equal(err.position, position, `${src}: ${err.message}`);
        assert.ok(err.message.includes(fragment), `${src}: ${err.message}`);
        assert.ok(err.message.startsWith(`path template "${src}": `), err.message);
        assert.ok(err.message.endsWith(`at position ${position}`), err.message);
        return true;
      },
    );
  }
});

test('isSingleSegmentVariable: {x}, {x=*} and {x=lit} are single; foo/* and ** are not', () => {
  const t = parsePathTemplate('/{a}/{b=*}/{c=lit}/{d=s/*}/{e=**}');
  assert.deepEqual(
    t.variables.map((v) => isSingleSegmentVariable(t, v)),
    [true, true, true, false, false],
  );
});
