import assert from 'node:assert/strict';
import { test } from 'node:test';
import { redactQuery } from './query-redact.js';

const names = new Set(['token', 'api_key']);

test('values of the named parameters are replaced, everything else stays byte for byte', () => {
  assert.equal(redactQuery('a=1&token=s3cr3t&b=%20x', names), 'a=1&token=[REDACTED]&b=%20x');
  assert.equal(redactQuery('api_key=k1&api_key=k2', names), 'api_key=[REDACTED]&api_key=[REDACTED]');
  assert.equal(redactQuery('TOKEN=x', names), 'TOKEN=[REDACTED]', 'names are case-insensitive');
  assert.equal(redactQuery('api%5Fkey=x&q=1', names), 'api%5Fkey=[REDACTED]&q=1', 'names are compared decoded');
});

test('a query without a named parameter comes back as the same string', () => {
  const q = 'a=1&b=2&tokenish=3&flag';
  assert.equal(redactQuery(q, names), q);
  assert.equal(redactQuery('', names), '');
  assert.equal(redactQuery('token=x', new Set()), 'token=x');
});

test('edge shapes: a bare name, an empty value, empty pairs, a bad escape', () => {
  assert.equal(redactQuery('token&a=1', names), 'token&a=1', 'no value to hide');
  assert.equal(redactQuery('token=&a=1', names), 'token=[REDACTED]&a=1');
  assert.equal(redactQuery('&&token=x&', names), '&&token=[REDACTED]&');
  assert.equal(redactQuery('%E0%A4%A=1&token=2', names), '%E0%A4%A=1&token=[REDACTED]');
});
