/**
 * Building blocks of the load-test SVG charts: text escaping, "nice" tick
 * choice and a frame (axes, ticks, titles, legend, polylines) drawn in plain
 * data coordinates. No dependencies; every function returns a string.
 */

/** One labelled tick on an axis, in the axis' (possibly transformed) units. */
export interface Tick {
  value: number;
  label: string;
}

/** An axis: its range in plot units, its ticks and its title. */
export interface Axis {
  title: string;
  min: number;
  max: number;
  ticks: Tick[];
}

/** A series to draw, in plot units (already transformed, e.g. log10). */
export interface FrameSeries {
  label: string;
  points: Array<[number, number]>;
  /** Draw a circle at each point as well as the line. */
  markers: boolean;
}

/** What {@link renderFrame} draws. */
export interface FrameSpec {
  title: string;
  x: Axis;
  y: Axis;
  series: FrameSeries[];
  width?: number;
  height?: number;
}

/** Colour-blind-friendly palette (Okabe–Ito); more series get generated hues. */
const PALETTE = ['#0072B2', '#D55E00', '#009E73', '#CC79A7', '#E69F00', '#56B4E9', '#000000', '#F0E442'];

/** Distinct colour for series number `i`. */
export function seriesColour(i: number): string {
  if (i < PALETTE.length) return PALETTE[i];
  return `hsl(${Math.round((i * 137.508) % 360)}, 65%, 40%)`;
}

/** Escapes text for an SVG/XML text node or attribute value. */
export function escapeXml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;').replace(/'/g, '&apos;')
    // why: control characters other than tab/newline are not allowed in XML 1.0 at all.
    .replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F]/g, '');
}

/** A coordinate for an attribute: 2 decimals, never NaN/Infinity (those become 0). */
export function coord(n: number): string {
  if (!Number.isFinite(n)) return '0';
  const r = Math.round(n * 100) / 100;
  return String(Object.is(r, -0) ? 0 : r);
}

/** A finite number or the fallback. */
export function finiteOr(n: number, fallback: number): number {
  return Number.isFinite(n) ? n : fallback;
}

/** 1, 2, 2.5 or 5 × 10^k closest above `rough` (rough > 0). */
function niceStep(rough: number): number {
  const exp = Math.floor(Math.log10(rough));
  const base = 10 ** exp;
  const f = rough / base;
  const m = f <= 1 ? 1 : f <= 2 ? 2 : f <= 2.5 ? 2.5 : f <= 5 ? 5 : 10;
  return m * base;
}

/** Formats a tick value with just the decimals its step needs. */
export function formatTickValue(v: number, step: number): string {
  const decimals = Math.max(0, Math.min(6, -Math.floor(Math.log10(step)) + (step % 1 === 0 ? 0 : 1)));
  const s = v.toFixed(decimals);
  return decimals > 0 ? s.replace(/\.?0+$/, '') : s;
}

/**
 * A linear axis from `min` to `max` (data values) rounded out to "nice" ticks,
 * about `count` of them. Degenerate ranges (all zero, one value, non-finite)
 * are widened so the axis is never empty.
 */
export function niceLinearAxis(title: string, min: number, max: number, count = 6, integer = false): Axis {
  let lo = finiteOr(min, 0);
  let hi = finiteOr(max, 1);
  if (hi < lo) [lo, hi] = [hi, lo];
  if (hi === lo) {
    if (hi === 0) hi = 1;
    else if (lo > 0) lo = 0;
    else hi = 0;
  }
  let step = niceStep((hi - lo) / Math.max(1, count - 1));
  if (integer) step = Math.max(1, Math.round(step));
  const start = Math.floor(lo / step) * step;
  const end = Math.ceil(hi / step) * step;
  const ticks: Tick[] = [];
  for (let i = 0; start + i * step <= end + step / 1e6 && i < 100; i++) {
    const v = start + i * step;
    ticks.push({ value: v, label: formatTickValue(v, step) });
  }
  return { title, min: start, max: end, ticks };
}

const MARGIN = { left: 72, top: 40, bottom: 58 };
/** Plot area size when the caller gives no width/height. */
const PLOT = { width: 490, height: 322 };
/** Rough width of one legend character at font-size 12, px (no font metrics in a pure string renderer). */
const CHAR_PX = 7;

/**
 * Renders a complete standalone SVG document: title, frame, grid, ticks,
 * axis titles, one polyline (plus optional markers) per series, legend.
 * Points outside the axis range are clamped to the frame.
 */
export function renderFrame(spec: FrameSpec): string {
  const longest = Math.max(0, ...spec.series.map((x) => [...x.label].length));
  const right = Math.max(120, 60 + longest * CHAR_PX);
  const width = Math.max(spec.width ?? MARGIN.left + PLOT.width + right, MARGIN.left + right + 100);
  const height = Math.max(spec.height ?? MARGIN.top + PLOT.height + MARGIN.bottom, MARGIN.top + MARGIN.bottom + 16 + spec.series.length * 20);
  const pw = width - MARGIN.left - right;
  const ph = height - MARGIN.top - MARGIN.bottom;
  const xSpan = spec.x.max - spec.x.min || 1;
  const ySpan = spec.y.max - spec.y.min || 1;
  const clamp01 = (t: number): number => Math.min(1, Math.max(0, finiteOr(t, 0)));
  const px = (v: number): number => MARGIN.left + clamp01((v - spec.x.min) / xSpan) * pw;
  const py = (v: number): number => MARGIN.top + ph - clamp01((v - spec.y.min) / ySpan) * ph;
  const x0 = MARGIN.left;
  const y0 = MARGIN.top + ph;
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
    `<title>${escapeXml(spec.title)}</title>`,
    `<rect x="0" y="0" width="${width}" height="${height}" fill="#ffffff"/>`,
    `<text x="${coord(width / 2)}" y="22" text-anchor="middle" font-size="15" font-weight="bold">${escapeXml(spec.title)}</text>`,
  ];
  for (const t of spec.y.ticks) {
    const y = coord(py(t.value));
    out.push(`<line x1="${x0}" y1="${y}" x2="${x0 + pw}" y2="${y}" stroke="#e5e5e5"/>`,
      `<line x1="${x0 - 5}" y1="${y}" x2="${x0}" y2="${y}" stroke="#333333"/>`,
      `<text x="${x0 - 8}" y="${y}" text-anchor="end" dy="0.35em">${escapeXml(t.label)}</text>`);
  }
  for (const t of spec.x.ticks) {
    const x = coord(px(t.value));
    out.push(`<line x1="${x}" y1="${MARGIN.top}" x2="${x}" y2="${y0}" stroke="#e5e5e5"/>`,
      `<line x1="${x}" y1="${y0}" x2="${x}" y2="${y0 + 5}" stroke="#333333"/>`,
      `<text x="${x}" y="${y0 + 18}" text-anchor="middle">${escapeXml(t.label)}</text>`);
  }
  out.push(`<line x1="${x0}" y1="${y0}" x2="${x0 + pw}" y2="${y0}" stroke="#333333"/>`,
    `<line x1="${x0}" y1="${MARGIN.top}" x2="${x0}" y2="${y0}" stroke="#333333"/>`,
    `<text x="${coord(x0 + pw / 2)}" y="${height - 12}" text-anchor="middle">${escapeXml(spec.x.title)}</text>`,
    `<text x="18" y="${coord(MARGIN.top + ph / 2)}" text-anchor="middle" transform="rotate(-90 18 ${coord(MARGIN.top + ph / 2)})">${escapeXml(spec.y.title)}</text>`);
  const drawable = spec.series.filter((s) => s.points.length > 0);
  if (drawable.length === 0) {
    out.push(`<text x="${coord(x0 + pw / 2)}" y="${coord(MARGIN.top + ph / 2)}" text-anchor="middle" fill="#888888">no data</text>`);
  }
  spec.series.forEach((s, i) => {
    const colour = seriesColour(i);
    const pts = s.points.map(([x, y]) => `${coord(px(x))},${coord(py(y))}`);
    if (pts.length > 1) out.push(`<polyline fill="none" stroke="${colour}" stroke-width="2" points="${pts.join(' ')}"/>`);
    if (s.markers || pts.length === 1) {
      for (const [x, y] of s.points) out.push(`<circle cx="${coord(px(x))}" cy="${coord(py(y))}" r="3.5" fill="${colour}"/>`);
    }
  });
  out.push(`<g>`);
  spec.series.forEach((s, i) => {
    const ly = MARGIN.top + 8 + i * 20;
    const lx = x0 + pw + 16;
    out.push(`<line x1="${lx}" y1="${ly}" x2="${lx + 22}" y2="${ly}" stroke="${seriesColour(i)}" stroke-width="3"/>`,
      `<text x="${lx + 28}" y="${ly}" dy="0.35em">${escapeXml(s.label)}</text>`);
  });
  out.push(`</g>`, `</svg>`);
  return out.join('\n') + '\n';
}
