import { isMap, isNode, isScalar, isSeq, type Document, type LineCounter, type Node } from 'yaml';

/** A path into the config in the user's terms: `['routes', 3, 'match', 'path']`. */
export type ConfigPath = ReadonlyArray<string | number>;

/** One problem found in the configuration. */
export interface ConfigIssue {
  /** The config file, or `env` for an environment variable. */
  file: string;
  /** 1-based line; 0 when there is no position (env vars, unreadable file). */
  line: number;
  /** 1-based column; 0 when there is no position. */
  column: number;
  /** Where, in the user's terms: `routes[3].match.path`, or the env var name. */
  path: string;
  /** What is wrong, e.g. `must start with /`. */
  message: string;
}

/**
 * Thrown by the config loader when the configuration is unusable. Carries every
 * problem found (not just the first); `message` lists them one per line as
 * `<file>:<line>:<col>: <path>: <message>`.
 */
export class ConfigError extends Error {
  /** Every problem found, ordered by position in the file, then env issues. */
  readonly issues: readonly ConfigIssue[];

  /** @param issues the problems found (at least one). */
  constructor(issues: readonly ConfigIssue[]) {
    const n = issues.length;
    super(`invalid configuration (${n} ${n === 1 ? 'error' : 'errors'}):\n${issues.map(formatIssue).join('\n')}`);
    this.name = 'ConfigError';
    this.issues = issues;
  }
}

/**
 * Formats one issue: `<file>:<line>:<col>: <path>: <message>`; without a
 * position `<file>: <path>: <message>`, and env issues as `<VAR>: <message>`.
 *
 * @param issue the issue to format.
 * @returns a single line.
 */
export function formatIssue(issue: ConfigIssue): string {
  const where = issue.file === 'env' ? '' : issue.line > 0 ? `${issue.file}:${issue.line}:${issue.column}: ` : `${issue.file}: `;
  return issue.path === '' ? `${where}${issue.message}` : `${where}${issue.path}: ${issue.message}`;
}

const IDENT = /^[A-Za-z_][A-Za-z0-9_-]*$/;

/**
 * Renders a path the way the user would write it: `routes[3].match.path`,
 * `upstreams.users.targets[0].url`, `upstreams["my svc"]`; the root is `(root)`.
 *
 * @param path path segments; numbers are array indexes.
 * @returns the display form.
 */
export function displayPath(path: ConfigPath): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else if (IDENT.test(seg)) out += out === '' ? seg : `.${seg}`;
    else out += `[${JSON.stringify(seg)}]`;
  }
  return out === '' ? '(root)' : out;
}

/**
 * Finds where a path lives in the YAML source. When `atKey` is set, points at
 * the key of the last segment (for unknown fields); when the path does not
 * exist (a missing field), points at the deepest node that does.
 *
 * @returns 1-based line and column (1:1 for an empty document).
 */
export function locate(doc: Document, lines: LineCounter, path: ConfigPath, atKey = false): { line: number; column: number } {
  let node: unknown = doc.contents;
  let best: Node | null = isNode(node) ? node : null;
  for (let i = 0; i < path.length; i++) {
    const seg = path[i];
    let next: unknown = undefined;
    if (isMap(node)) {
      const pair = node.items.find((p) => keyOf(p.key) === String(seg));
      if (pair === undefined) break;
      const valueMissing = !isNode(pair.value) || (isScalar(pair.value) && pair.value.value === null);
      // For an unknown field, or `key:` with no value, the key is the useful position.
      if ((atKey && i === path.length - 1) || valueMissing) {
        if (isNode(pair.key)) best = pair.key;
        break;
      }
      next = pair.value;
    } else if (isSeq(node) && typeof seg === 'number') {
      next = node.items[seg];
    }
    if (!isNode(next)) break;
    best = next;
    node = next;
  }
  const offset = best?.range?.[0] ?? 0;
  const pos = lines.linePos(offset);
  return { line: Math.max(pos.line, 1), column: Math.max(pos.col, 1) };
}

function keyOf(key: unknown): string | undefined {
  if (isScalar(key)) return String(key.value);
  return typeof key === 'string' ? key : undefined;
}

/**
 * Collects the issues of one file, locating each path in the YAML document.
 */
export class IssueList {
  readonly items: ConfigIssue[] = [];

  /** @param file display name of the file; `doc`/`lines` give positions. */
  constructor(readonly file: string, private readonly doc: Document, private readonly lines: LineCounter) {}

  /** Adds an issue at `path` (at the key of the last segment when `atKey`). */
  add(path: ConfigPath, message: string, atKey = false): void {
    const pos = locate(this.doc, this.lines, path, atKey);
    this.items.push({ file: this.file, line: pos.line, column: pos.column, path: displayPath(path), message });
  }

  /** Adds an issue at an explicit position (YAML syntax errors). */
  addAt(line: number, column: number, path: string, message: string): void {
    this.items.push({ file: this.file, line, column, path, message });
  }

  /** Issues sorted by position, exact duplicates removed. */
  sorted(): ConfigIssue[] {
    const seen = new Set<string>();
    const out: ConfigIssue[] = [];
    for (const it of this.items) {
      const key = `${it.line}:${it.column}\u0000${it.path}\u0000${it.message}`;
      if (seen.has(key)) continue;
      seen.add(key);
      out.push(it);
    }
    // Array.prototype.sort is stable, so issues at one position keep discovery order.
    return out.sort((a, b) => a.line - b.line || a.column - b.column);
  }
}
