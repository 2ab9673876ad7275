// Time-series charts with uPlot (served from its npm package like Leaflet, ~50 KB
// minified): a time axis and a value axis per unit, values under the cursor in the
// legend, formatted in the chosen language, and points drawn where there are few of
// them, so a series of one value shows as a dot. Loaded only by views that draw charts.
import { fmtDateTime, fmtNumber, lang, t, unitLabel } from './i18n.js';
import { loadScript } from './map.js';

let uplot = null;
function uPlot() {
  if (!uplot) {
    const css = document.createElement('link');
    css.rel = 'stylesheet';
    css.href = '/vendor/uplot/uPlot.min.css';
    document.head.append(css);
    uplot = loadScript('/vendor/uplot/uPlot.iife.min.js').then(() => window.uPlot);
  }
  return uplot;
}

export const COLOURS = ['#0b5cad', '#b42318', '#1a7f37', '#8250df', '#9a6700', '#6e7781'];
// Readable on a phone: the canvas is drawn at its CSS size, so 13 px stays 13 px.
const FONT = '13px system-ui, -apple-system, "Segoe UI", Roboto, sans-serif';

/** Time-axis ticks: times of day within two days, dates beyond. */
function timeTicks(span) {
  const options = span <= 2 * 86_400 ? { hour: '2-digit', minute: '2-digit' } : { day: 'numeric', month: 'short' };
  const format = new Intl.DateTimeFormat(lang() === 'de' ? 'de-DE' : 'en-GB', options);
  return (u, splits) => splits.map((s) => (s === null ? '' : format.format(new Date(s * 1000))));
}

/**
 * Draws a chart into `container` and returns its uPlot instance (also kept as
 * container.uplot). `times` in epoch seconds; each series: { label, values, unit (UCUM),
 * colour?, digits?, fromZero? }. Series of one unit share an axis; a second unit gets an axis on the right.
 * Redrawn at the container's width when it changes; removed when `signal` aborts.
 */
export async function timeChart(container, { times, series, height = 260, signal }) {
  const UPlot = await uPlot();
  if (signal?.aborted || !container.isConnected) return null;
  const units = [...new Set(series.map((s) => s.unit))];
  const span = times.length > 1 ? times[times.length - 1] - times[0] : 0;
  const padRange = (pad) => (u, min, max) => (min === null ? [0, 1] : min === max ? [min - pad(min), max + pad(max)] : [min, max]);
  // uPlot shows a single time as the first hour of a day-long axis; centre it in two hours instead.
  const scales = { x: { time: true, range: (u, min, max) => (u.data[0].length === 1 ? [u.data[0][0] - 3600, u.data[0][0] + 3600] : padRange(() => 3600)(u, min, max)) } };
  units.forEach((unit, i) => {
    // Counts, rates and durations start at zero (no "-0.5 messages"); measured values fit their data.
    const fromZero = series.some((s) => s.unit === unit && s.fromZero);
    scales[`y${i}`] = {
      range: (u, min, max) => {
        if (min === null) return [0, 1];
        if (fromZero) return [0, max > 0 ? UPlot.rangeNum(0, max, 0.1, true)[1] : 1];
        return min === max ? [min - Math.max(1, Math.abs(min) * 0.1), max + Math.max(1, Math.abs(max) * 0.1)] : UPlot.rangeNum(min, max, 0.1, true);
      },
    };
  });
  const axes = [
    { scale: 'x', font: FONT, stroke: '#1b1f23', grid: { stroke: '#eaeef2' }, ticks: { stroke: '#d0d7de' }, space: 70, values: timeTicks(span) },
    ...units.map((unit, i) => ({
      scale: `y${i}`, side: i === 0 ? 3 : 1, font: FONT, labelFont: FONT, stroke: '#1b1f23', label: unitLabel(unit), labelSize: 20, size: 56,
      grid: { show: i === 0, stroke: '#eaeef2' }, ticks: { stroke: '#d0d7de' },
      // As many fraction digits as the tick step has (0.005 → 3, 0.25 → 2), so ticks read exactly.
      values: (u, splits, axis, space, incr) => splits.map((v) => fmtNumber(v, Math.min(6, (String(Number((incr || 1).toPrecision(6))).split('.')[1] ?? '').length))),
    })),
  ];
  const opts = {
    width: Math.max(240, container.clientWidth),
    height,
    scales,
    axes,
    legend: { live: true },
    cursor: { points: { size: 10 }, drag: { x: false, y: false } },
    series: [
      { label: t('time'), value: (u, v) => (v === null ? '–' : fmtDateTime(v * 1000)) },
      ...series.map((s, i) => {
        const colour = s.colour ?? COLOURS[i % COLOURS.length];
        // Dots where values are few or stand alone between gaps: a line needs two neighbours.
        const present = s.values.filter((v) => v !== null && v !== undefined).length;
        const lonely = s.values.some((v, k) => v !== null && v !== undefined && (s.values[k - 1] ?? null) === null && (s.values[k + 1] ?? null) === null);
        const few = present < 60 || lonely;
        return {
          label: s.label, scale: `y${units.indexOf(s.unit)}`, stroke: colour, width: 2, spanGaps: false,
          points: { show: few, size: 8, fill: colour, stroke: colour },
          value: (u, v) => (v === null || v === undefined ? '–' : `${fmtNumber(v, s.digits ?? 2)} ${unitLabel(s.unit)}`.trim()),
        };
      }),
    ],
  };
  container.replaceChildren();
  const u = new UPlot(opts, [times, ...series.map((s) => s.values)], container);
  container.uplot = u;
  const resize = new ResizeObserver(() => {
    const width = Math.max(240, container.clientWidth);
    if (Math.abs(width - u.width) > 1) u.setSize({ width, height });
  });
  resize.observe(container);
  signal?.addEventListener('abort', () => {
    resize.disconnect();
    u.destroy();
  }, { once: true });
  return u;
}
