import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileGlob, globMatches } from './glob.js';

test('globs: `*` is any run of characters (none, `/` and `.` included); the rest matches literally', () => {
  const cases: Array<[string, string, boolean]> = [
    ['partner-*', 'partner-1', true], ['partner-*', 'partner-', true], ['partner-*', 'partner', false], ['partner-*', 'xpartner-1', false],
    ['spiffe://example.org/*', 'spiffe://example.org/ns/a/b', true], ['spiffe://example.org/*', 'spiffe://example.org.evil/x', false],
    ['*.example.com', 'api.example.com', true], ['*.example.com', 'a.b.example.com', true], ['*.example.com', 'example.com', false],
    ['a*b*c', 'abc', true], ['a*b*c', 'axxbyyc', true], ['a*b*c', 'acb', false], ['a*b*c', 'abcb', false], ['a*bc*bc', 'abcbc', true],
    ['ab*ba', 'aba', false], ['*', '', true], ['**', 'x', true], ['exact', 'exact', true], ['exact', 'Exact', false], ['a?', 'ab', false],
  ];
  for (const [pattern, text, expected] of cases) assert.equal(globMatches(compileGlob(pattern), text), expected, `${pattern} ~ ${text}`);
});
