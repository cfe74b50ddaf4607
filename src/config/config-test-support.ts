import assert from 'node:assert/strict';
import { ConfigError } from './issues.js';

/** Test helper: runs `fn`, which must throw a ConfigError, and returns that error. */
export function configError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof ConfigError, String(err));
    return err;
  }
  assert.fail('expected a ConfigError');
}
