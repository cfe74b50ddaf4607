// Time-series charts for the dashboard on uPlot (window.uPlot, served by the
// admin listener). A chart keeps the last POINTS samples of named series;
// a series seen for the first time is back-filled with gaps, and the uPlot
// instance is rebuilt when the set of series changes (uPlot's series are
// fixed at creation).
'use strict';
(function defineCharts(global) {
  const POINTS = 120;
  const PALETTE = ['#2f6fdf', '#d9480f', '#2b8a3e', '#ae3ec9', '#e67700', '#0b7285', '#c2255c', '#5c940d', '#364fc7', '#862e9c'];

  class TimeChart {
    /**
     * @param {HTMLElement} el where the chart goes
     * @param {{ unit?: string, fixed?: string[], min?: number, max?: number }} options
     *   fixed: series always shown, in this order (others are added as they appear)
     */
    constructor(el, options) {
      this.el = el;
      this.unit = options.unit || '';
      this.min = options.min;
      this.max = options.max;
      this.times = [];
      this.series = new Map();
      for (const name of options.fixed || []) this.series.set(name, []);
      this.plot = null;
      this.key = '';
    }

    /** Adds one sample: `values` maps series name to a number (or null: a gap). */
    push(time, values) {
      this.times.push(time);
      for (const name of Object.keys(values)) {
        if (!this.series.has(name)) this.series.set(name, new Array(this.times.length - 1).fill(null));
      }
      for (const [name, data] of this.series) {
        const v = values[name];
        data.push(typeof v === 'number' && Number.isFinite(v) ? v : null);
      }
      if (this.times.length > POINTS) {
        this.times.shift();
        for (const data of this.series.values()) data.shift();
      }
      this.draw();
    }

    width() {
      return Math.max(280, this.el.clientWidth || 420);
    }

    draw() {
      const names = [...this.series.keys()];
      const key = names.join('\u0000');
      const data = [this.times, ...names.map((n) => this.series.get(n))];
      if (this.plot !== null && key === this.key) {
        this.plot.setData(data);
        return;
      }
      if (this.plot !== null) this.plot.destroy();
      this.key = key;
      const unit = this.unit;
      const range = (this.min !== undefined || this.max !== undefined)
        ? { y: { range: (u, lo, hi) => [this.min !== undefined ? this.min : lo, this.max !== undefined ? Math.max(this.max, hi) : hi] } }
        : { y: { range: (u, lo, hi) => [0, hi > 0 ? hi * 1.1 : 1] } };
      this.plot = new global.uPlot({
        width: this.width(),
        height: 200,
        scales: { x: { time: true }, ...range },
        axes: [{}, { values: (u, ticks) => ticks.map((t) => formatTick(t) + unit), size: axisWidth }],
        series: [{}, ...names.map((name, i) => ({
          label: name,
          stroke: PALETTE[i % PALETTE.length],
          width: 1.5,
          spanGaps: false,
          value: (u, v) => (v === null || v === undefined ? '–' : formatTick(v) + unit),
        }))],
      }, data, this.el);
    }

    /** Refits the width (window resized). */
    resize() {
      if (this.plot !== null) this.plot.setSize({ width: this.width(), height: 200 });
    }
  }

  /** Room for the y tick labels (uPlot calls this with the formatted labels). */
  function axisWidth(u, values) {
    let longest = 0;
    for (const v of values || []) longest = Math.max(longest, String(v).length);
    return Math.max(44, 20 + longest * 8);
  }

  function formatTick(v) {
    if (v === 0) return '0';
    const a = Math.abs(v);
    if (a >= 100) return v.toFixed(0);
    if (a >= 10) return v.toFixed(1);
    if (a >= 1) return v.toFixed(2);
    return v.toPrecision(2);
  }

  global.TurnpikeCharts = { TimeChart, formatTick };
})(window);
