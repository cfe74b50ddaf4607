/**
 * Edits of a flat `[name, value, name, value, ...]` header list with
 * lower-case names: the shape of a {@link ResponseHead}'s headers and of a
 * LocalResponse. Plain loops (lists are short; no Map per response).
 */

/** First value of `name` ('' when absent). */
export function getHeader(list: readonly string[], name: string): string {
  for (let i = 0; i < list.length; i += 2) if (list[i] === name) return list[i + 1];
  return '';
}

/** Whether `name` is present. */
export function hasHeader(list: readonly string[], name: string): boolean {
  for (let i = 0; i < list.length; i += 2) if (list[i] === name) return true;
  return false;
}

/** Removes every `name` entry. */
export function removeHeader(list: string[], name: string): void {
  let w = 0;
  for (let r = 0; r < list.length; r += 2) {
    if (list[r] === name) continue;
    if (w !== r) { list[w] = list[r]; list[w + 1] = list[r + 1]; }
    w += 2;
  }
  // why: assigning length costs even when nothing was removed.
  if (w !== list.length) list.length = w;
}

/** Replaces every `name` entry with one `name: value`. */
export function setHeader(list: string[], name: string, value: string): void {
  removeHeader(list, name);
  list.push(name, value);
}

/** Appends `name: value`, keeping existing values. */
export function addHeader(list: string[], name: string, value: string): void {
  list.push(name, value);
}

/** Renames every `from` entry to `to` (values kept, order kept). */
export function renameHeader(list: string[], from: string, to: string): void {
  for (let i = 0; i < list.length; i += 2) if (list[i] === from) list[i] = to;
}
