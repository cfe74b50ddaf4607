/**
 * The `*` globs of the client-cert policy (`CN=partner-*`,
 * `spiffe://example.org/*`): `*` stands for any run of characters (none
 * included, `/` and `.` included); every other character matches itself.
 */

/** A compiled glob: the literal parts between the stars. */
export interface Glob {
  /** The pattern as written. */
  readonly source: string;
  /** Literal text between stars; parts[0] is the prefix, the last part the suffix. */
  readonly parts: readonly string[];
}

/** Compiles a glob (split once at load, so a match does no parsing). */
export function compileGlob(source: string): Glob {
  return { source, parts: source.split('*') };
}

/** Whether `text` matches `glob` (case-sensitive). */
export function globMatches(glob: Glob, text: string): boolean {
  const parts = glob.parts;
  if (parts.length === 1) return text === parts[0];
  const first = parts[0];
  const last = parts[parts.length - 1];
  if (text.length < first.length + last.length || !text.startsWith(first) || !text.endsWith(last)) return false;
  // why: the middle parts are placed left to right at their first occurrence
  // (greedy is right for `*` only globs), with a loop instead of a RegExp.
  let at = first.length;
  const limit = text.length - last.length;
  for (let i = 1; i < parts.length - 1; i++) {
    const part = parts[i];
    if (part === '') continue;
    const found = text.indexOf(part, at);
    if (found < 0 || found + part.length > limit) return false;
    at = found + part.length;
  }
  return true;
}
