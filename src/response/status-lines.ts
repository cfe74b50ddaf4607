import { STATUS_CODES } from 'node:http';

// why: uWS wants "200 OK" as one string; building it per response would
// allocate a new string for every request, so the common ones are made once.
const LINES: string[] = [];
for (let code = 100; code < 600; code++) {
  LINES[code] = code + ' ' + (STATUS_CODES[code] ?? 'Unknown');
}

/** The status line text ("404 Not Found") for a status code. */
export function statusLine(code: number): string {
  return LINES[code] ?? code + ' Unknown';
}
