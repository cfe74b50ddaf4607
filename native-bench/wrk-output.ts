/**
 * Parser for the text wrk 4.x prints with `--latency`.
 */

/** What one wrk run measured. Latencies are in microseconds. */
export interface WrkResult {
  requests: number;
  durationS: number;
  rps: number;
  latencyAvgUs: number;
  latencyMaxUs: number;
  p50Us: number;
  p75Us: number;
  p90Us: number;
  p99Us: number;
  errors: { connect: number; read: number; write: number; timeout: number; non2xx: number };
}

const TIME_UNITS: Record<string, number> = { us: 1, ms: 1e3, s: 1e6, m: 60e6, h: 3600e6 };

/** Parses a wrk time like `514.00us`, `1.02ms`, `2.00s`, `1.00m` into microseconds. */
export function parseWrkTime(text: string): number {
  const m = /^([\d.]+)(us|ms|s|m|h)$/.exec(text.trim());
  if (m === null) throw new Error(`not a wrk time: "${text}"`);
  return Number(m[1]) * TIME_UNITS[m[2]];
}

function num(text: string, re: RegExp, what: string): number {
  const m = re.exec(text);
  if (m === null) throw new Error(`wrk output has no ${what}:\n${text}`);
  return Number(m[1]);
}

/**
 * Parses wrk's report. Throws when a required line is missing (wrk failed or
 * ran without `--latency`). Socket-error and non-2xx lines are optional (wrk
 * prints them only when non-zero).
 */
export function parseWrkOutput(text: string): WrkResult {
  const total = /(\d+) requests in ([\d.]+(?:us|ms|s|m|h)),/.exec(text);
  if (total === null) throw new Error(`wrk output has no request count:\n${text}`);
  const lat = /^\s*Latency\s+(\S+)\s+\S+\s+(\S+)/m.exec(text);
  if (lat === null) throw new Error(`wrk output has no latency line:\n${text}`);
  const pct = (p: string): number => {
    const m = new RegExp(`^\\s*${p}%\\s+(\\S+)`, 'm').exec(text);
    if (m === null) throw new Error(`wrk output has no ${p}% latency (run with --latency):\n${text}`);
    return parseWrkTime(m[1]);
  };
  const sock = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(text);
  const non2xx = /Non-2xx or 3xx responses: (\d+)/.exec(text);
  return {
    requests: Number(total[1]),
    durationS: parseWrkTime(total[2]) / 1e6,
    rps: num(text, /Requests\/sec:\s+([\d.]+)/, 'Requests/sec'),
    latencyAvgUs: parseWrkTime(lat[1]),
    latencyMaxUs: parseWrkTime(lat[2]),
    p50Us: pct('50'),
    p75Us: pct('75'),
    p90Us: pct('90'),
    p99Us: pct('99'),
    errors: {
      connect: sock === null ? 0 : Number(sock[1]),
      read: sock === null ? 0 : Number(sock[2]),
      write: sock === null ? 0 : Number(sock[3]),
      timeout: sock === null ? 0 : Number(sock[4]),
      non2xx: non2xx === null ? 0 : Number(non2xx[1]),
    },
  };
}
