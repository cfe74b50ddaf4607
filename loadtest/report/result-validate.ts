/**
 * Reads a load-test result JSON and checks it is version 1 with runs shaped
 * the way the comparison reads them. Errors name the file and the field.
 */
import { LOADTEST_RESULT_VERSION, type LoadtestResult } from '../result-types.js';

/** Thrown for unusable input; the message is ready to print. */
export class ResultFileError extends Error {
  override readonly name = 'ResultFileError';
}

type Check = (v: unknown) => boolean;
const isNum: Check = (v) => typeof v === 'number' && Number.isFinite(v);
const isNumOrNull: Check = (v) => v === null || isNum(v);
const isStr: Check = (v) => typeof v === 'string';
const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Fields every run must have, with what they must be. */
const RUN_FIELDS: ReadonlyArray<[string, Check, string]> = [
  ['scenario', isStr, 'a string'],
  ['mode', (v) => v === 'closed' || v === 'open', '"closed" or "open"'],
  ['target', isStr, 'a string'],
  ['workers', isNum, 'a number'],
  ['connections', isNum, 'a number'],
  ['rate', isNumOrNull, 'a number or null'],
  ['rps', isNum, 'a number'],
  ['cpuUsPerRequest', isNumOrNull, 'a number or null'],
  ['rssMiB', isNumOrNull, 'a number or null'],
];
const LATENCY_FIELDS = ['p50', 'p90', 'p99', 'p99_9', 'max'];
const ERROR_FIELDS = ['connect', 'timeout', 'status5xx', 'status4xx', 'other', 'unfinished'];

/** A value, shortened for an error message. */
function show(v: unknown): string {
  const s = v === undefined ? 'missing' : JSON.stringify(v);
  return s.length > 40 ? s.slice(0, 37) + '...' : s;
}

/**
 * Parses `text` (the contents of `name`) as a {@link LoadtestResult}.
 * @throws ResultFileError saying which file and what is wrong.
 */
export function parseLoadtestResult(text: string, name: string): LoadtestResult {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw new ResultFileError(`${name}: not valid JSON (${(err as Error).message})`);
  }
  if (!isObj(data)) throw new ResultFileError(`${name}: expected a JSON object, got ${show(data)}`);
  if (data.version !== LOADTEST_RESULT_VERSION) {
    throw new ResultFileError(`${name}: "version" is ${show(data.version)}, expected ${LOADTEST_RESULT_VERSION} (not a load-test result of this format)`);
  }
  if (!Array.isArray(data.runs)) throw new ResultFileError(`${name}: "runs" is ${show(data.runs)}, expected an array`);
  data.runs.forEach((run: unknown, i: number) => {
    const at = `${name}: runs[${i}]`;
    if (!isObj(run)) throw new ResultFileError(`${at} is ${show(run)}, expected an object`);
    for (const [field, ok, what] of RUN_FIELDS) {
      if (!ok(run[field])) throw new ResultFileError(`${at}.${field} is ${show(run[field])}, expected ${what}`);
    }
    for (const [group, fields] of [['latency', LATENCY_FIELDS], ['errors', ERROR_FIELDS]] as const) {
      const g = run[group];
      if (!isObj(g)) throw new ResultFileError(`${at}.${group} is ${show(g)}, expected an object`);
      for (const f of fields) if (!isNum(g[f])) throw new ResultFileError(`${at}.${group}.${f} is ${show(g[f])}, expected a number`);
    }
  });
  return data as unknown as LoadtestResult;
}
