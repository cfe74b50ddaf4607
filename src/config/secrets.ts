import { readFileSync } from 'node:fs';
import type { ConfigPath } from './issues.js';

/**
 * Secrets in configuration: `env:NAME` reads an environment variable,
 * `file:PATH` a file (one trailing newline removed), anything else is taken
 * literally. Used everywhere a secret goes (JWT HS secrets, introspection
 * client secrets, key passphrases, API keys) so a config file need not hold
 * secret material.
 */
export type SecretRef = string;

/** Why a secret reference could not be read, or null when it can. */
export function secretProblem(ref: SecretRef, env: NodeJS.ProcessEnv = process.env): string | null {
  if (ref.startsWith('env:')) {
    const name = ref.slice(4);
    if (name === '') return 'env: needs a variable name (env:NAME)';
    const v = env[name];
    if (v === undefined) return `environment variable ${name} is not set`;
    if (v === '') return `environment variable ${name} is empty`;
    return null;
  }
  if (ref.startsWith('file:')) {
    const path = ref.slice(5);
    if (path === '') return 'file: needs a path (file:PATH)';
    try {
      if (readSecretFile(path) === '') return `secret file ${path} is empty`;
    } catch (err) {
      return `cannot read secret file ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`;
    }
    return null;
  }
  if (ref === '') return 'must not be empty';
  return null;
}

/**
 * Reads a secret reference (see {@link SecretRef}). Throws an Error naming
 * the variable or file when it cannot be read; config validation calls
 * {@link checkSecret} first so a running gateway does not see that.
 */
export function readSecret(ref: SecretRef, env: NodeJS.ProcessEnv = process.env): string {
  const problem = secretProblem(ref, env);
  if (problem !== null) throw new Error(problem);
  if (ref.startsWith('env:')) return env[ref.slice(4)]!;
  if (ref.startsWith('file:')) return readSecretFile(ref.slice(5));
  return ref;
}

/** Reports an unreadable secret reference at `at` (for a factory's `check`). */
export function checkSecret(ref: unknown, at: ConfigPath, issue: (path: ConfigPath, message: string) => void,
  env: NodeJS.ProcessEnv = process.env): void {
  if (typeof ref !== 'string') return; // the schema reports the type
  const problem = secretProblem(ref, env);
  if (problem !== null) issue(at, problem);
}

function readSecretFile(path: string): string {
  const text = readFileSync(path, 'utf8');
  return text.endsWith('\r\n') ? text.slice(0, -2) : text.endsWith('\n') ? text.slice(0, -1) : text;
}
